import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { AppError } from '../../platform/errors.ts';
import type { App } from '../../platform/http/create-server.ts';
import { commonErrors, dateTime, pageOf, pageQuery } from '../../platform/http/schemas.ts';
import { contextOf } from '../access/check-access.ts';
import { type ImportFormat, importProducts, MAX_REPORTED_ERRORS } from './import-products.ts';
import {
  cancelPriceAlert,
  createProduct,
  deleteProduct,
  findPriceAlerts,
  findPriceHistory,
  getProductImage,
  IMAGE_TYPES,
  type ImageType,
  MAX_IMAGE_BYTES,
  productInputSchema,
  productPatchSchema,
  requireProduct,
  searchProducts,
  setProductImage,
  updateProduct,
} from './service.ts';

const productSchema = z
  .object({
    id: z.uuid(),
    sku: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    price: z.number(),
    currency: z.string(),
    category: z.string().nullable(),
    imageUrl: z.string().nullable(),
    available: z.boolean(),
    attributes: z.record(z.string(), z.unknown()),
    createdAt: dateTime,
    updatedAt: dateTime,
  })
  .meta({ id: 'Product' });

const productHitSchema = productSchema
  .extend({ score: z.number().describe('Relevance; higher is better, 0 without a query') })
  .meta({ id: 'ProductHit' });

const priceHistorySchema = z
  .object({
    id: z.uuid(),
    productId: z.uuid(),
    oldPrice: z.number().nullable().describe('Null for the price the product was created with'),
    newPrice: z.number(),
    currency: z.string(),
    source: z.enum(['api', 'import']),
    changedAt: dateTime,
  })
  .meta({ id: 'ProductPrice' });

const priceAlertStatus = z.enum(['active', 'fired', 'cancelled']);

const priceAlertSchema = z
  .object({
    id: z.uuid(),
    contactId: z.uuid(),
    conversationId: z.uuid(),
    productId: z.uuid(),
    targetPrice: z.number(),
    priceAtCreation: z.number().describe('The product price when the alert was set'),
    status: priceAlertStatus,
    firedPrice: z.number().nullable(),
    createdAt: dateTime,
    firedAt: dateTime.nullable(),
    cancelledAt: dateTime.nullable(),
    product: z.object({ sku: z.string(), name: z.string(), price: z.number(), currency: z.string() }),
    contact: z.object({
      username: z.string().nullable(),
      firstName: z.string().nullable(),
      lastName: z.string().nullable(),
    }),
  })
  .meta({ id: 'PriceAlert' });

const importResultSchema = z
  .object({
    rows: z.number().int().describe('Data rows read'),
    created: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
    failed: z.number().int(),
    errors: z
      .array(z.object({ row: z.number().int(), sku: z.string().nullable(), message: z.string() }))
      .describe(`Row errors, at most ${MAX_REPORTED_ERRORS}; CSV rows are file lines (header = 1)`),
    errorsTruncated: z.boolean(),
    aborted: z.string().nullable().describe('Why reading stopped early; rows before it were imported'),
  })
  .meta({ id: 'ProductImportResult' });

const wsParams = z.object({ ws: z.uuid() });
const productParams = z.object({ ws: z.uuid(), productId: z.uuid() });
const booleanQuery = z.enum(['true', 'false']).transform((value) => value === 'true');
const priceQuery = z.coerce.number().min(0);

const filterQuery = z.object({
  category: z.string().trim().min(1).max(200).optional(),
  price_min: priceQuery.optional(),
  price_max: priceQuery.optional(),
  available: booleanQuery.optional(),
});

const IMPORT_TYPES: Record<string, ImportFormat> = {
  'text/csv': 'csv',
  'application/csv': 'csv',
  'application/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
  'application/x-jsonlines': 'ndjson',
};

/** The product catalog, its import and images, and customers' price alerts. */
export function registerCatalogRoutes(app: App, ctx: AppContext) {
  const tags = ['catalog'];
  const security = [{ bearer: [] }];

  app.get(
    '/api/workspaces/:ws/products',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'Products, newest first, with filters and cursor pagination',
        params: wsParams,
        querystring: pageQuery.extend({
          ...filterQuery.shape,
          limit: z.coerce.number().int().min(1).max(100).default(50),
        }),
        response: { 200: pageOf(productSchema), ...commonErrors },
      },
    },
    async (request) => {
      const query = request.query;
      return searchProducts(ctx, request.params.ws, {
        ...filters(query),
        limit: query.limit,
        ...(query.cursor ? { cursor: query.cursor } : {}),
      });
    },
  );

  app.get(
    '/api/workspaces/:ws/products/search',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary:
          'Search products: full text (Russian/English stems) plus trigram similarity, so typos still match; best first',
        params: wsParams,
        querystring: pageQuery.extend({
          ...filterQuery.shape,
          q: z.string().max(200).optional().describe('Free text; empty lists newest first'),
          limit: z.coerce.number().int().min(1).max(100).default(20),
        }),
        response: { 200: pageOf(productHitSchema), ...commonErrors },
      },
    },
    async (request) => {
      const query = request.query;
      return searchProducts(ctx, request.params.ws, {
        ...filters(query),
        ...(query.q ? { q: query.q } : {}),
        limit: query.limit,
        ...(query.cursor ? { cursor: query.cursor } : {}),
      });
    },
  );

  app.post(
    '/api/workspaces/:ws/products',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Create a product; 409 when the SKU exists (SKUs are unique ignoring case)',
        params: wsParams,
        body: productInputSchema,
        response: { 201: productSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const product = await createProduct(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        input: request.body,
      });
      return reply.code(201).send(product);
    },
  );

  app.get(
    '/api/workspaces/:ws/products/:productId',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'One product',
        params: productParams,
        response: { 200: productSchema, ...commonErrors },
      },
    },
    async (request) => requireProduct(ctx, request.params.ws, request.params.productId),
  );

  app.patch(
    '/api/workspaces/:ws/products/:productId',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Change a product; a new price goes to the price history and triggers a price-alert check',
        params: productParams,
        body: productPatchSchema,
        response: { 200: productSchema, ...commonErrors },
      },
    },
    async (request) =>
      updateProduct(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        productId: request.params.productId,
        patch: request.body,
      }),
  );

  app.delete(
    '/api/workspaces/:ws/products/:productId',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Delete a product with its price history, images and price alerts',
        params: productParams,
        response: { 204: z.null(), ...commonErrors },
      },
    },
    async (request, reply) => {
      await deleteProduct(contextOf(ctx, request), request.params.ws, request.params.productId);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/workspaces/:ws/products/:productId/price-history',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'Prices of a product, newest first (the first entry is its creation)',
        params: productParams,
        querystring: pageQuery,
        response: { 200: pageOf(priceHistorySchema), ...commonErrors },
      },
    },
    async (request) =>
      findPriceHistory(ctx, {
        workspaceId: request.params.ws,
        productId: request.params.productId,
        limit: request.query.limit,
        cursor: request.query.cursor,
      }),
  );

  // Raw bodies (images, streamed imports) get their own encapsulated scopes, so their content
  // type parsers neither clash with nor replace the JSON parser of every other route.
  app.register(async (instance) => {
    const scope = instance.withTypeProvider<ZodTypeProvider>();
    replaceParsers(instance, Object.keys(IMAGE_TYPES));
    scope.addContentTypeParser(
      Object.keys(IMAGE_TYPES),
      { parseAs: 'buffer', bodyLimit: MAX_IMAGE_BYTES },
      (_request, body, done) => done(null, body),
    );

    scope.put(
      '/api/workspaces/:ws/products/:productId/image',
      {
        config: { access: { role: 'admin' } },
        schema: {
          tags,
          security,
          summary: `Upload the product photo (raw image/png, image/jpeg or image/webp body, at most ${MAX_IMAGE_BYTES} bytes); imageUrl then points at its public URL`,
          params: productParams,
          response: { 200: productSchema, ...commonErrors, 413: commonErrors[400], 415: commonErrors[400] },
        },
      },
      async (request) => {
        const type = mimeOf(request.headers['content-type']);
        if (!isImageType(type) || !Buffer.isBuffer(request.body))
          throw new AppError('UNSUPPORTED_MEDIA_TYPE', {
            message: `Send the image as the raw body with Content-Type ${Object.keys(IMAGE_TYPES).join(', ')}`,
          });
        return setProductImage(contextOf(ctx, request), {
          workspaceId: request.params.ws,
          productId: request.params.productId,
          contentType: type,
          data: request.body,
        });
      },
    );
  });

  app.register(async (instance) => {
    const scope = instance.withTypeProvider<ZodTypeProvider>();
    replaceParsers(instance, Object.keys(IMPORT_TYPES));
    // The body is handed over as the request stream: the import reads it row by row.
    scope.addContentTypeParser(Object.keys(IMPORT_TYPES), (_request, payload, done) => done(null, payload));

    scope.post(
      '/api/workspaces/:ws/products/import',
      {
        config: { access: { role: 'admin' } },
        schema: {
          tags,
          security,
          summary:
            'Import products, upserting by SKU: a streamed text/csv (header row with sku, name, price…), application/json (an array of products) or application/x-ndjson body',
          params: wsParams,
          querystring: z.object({
            format: z.enum(['csv', 'json', 'ndjson']).optional().describe('Overrides the Content-Type'),
          }),
          response: {
            200: importResultSchema,
            ...commonErrors,
            413: commonErrors[400],
            415: commonErrors[400],
          },
        },
      },
      async (request) => {
        const format = request.query.format ?? IMPORT_TYPES[mimeOf(request.headers['content-type'])];
        const body: unknown = request.body;
        if (!format || !(body instanceof Readable))
          throw new AppError('UNSUPPORTED_MEDIA_TYPE', {
            message: `Send the products as the body with Content-Type text/csv, application/json or application/x-ndjson`,
          });
        return importProducts(contextOf(ctx, request), {
          workspaceId: request.params.ws,
          format,
          source: body,
        });
      },
    );
  });

  app.get(
    '/media/products/:productId/:file',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary:
          'A product photo by its content-hashed name (immutable; for Telegram, the widget and the panel)',
        params: z.object({ productId: z.string().max(64), file: z.string().max(64) }),
        // application/json for the error answers.
        produces: [...Object.keys(IMAGE_TYPES), 'application/json'],
        response: {
          200: z.any().meta({ type: 'string', format: 'binary', description: 'Image bytes' }),
          404: commonErrors[404],
        },
      },
    },
    async (request, reply) => {
      const image = await getProductImage(ctx, request.params.productId, request.params.file);
      if (!image) throw new AppError('NOT_FOUND', { message: 'Image not found' });
      return (
        reply
          .type(image.contentType)
          .header('cache-control', 'public, max-age=31536000, immutable')
          // Helmet's same-origin default would keep the widget on customers' sites from showing it.
          .header('cross-origin-resource-policy', 'cross-origin')
          .send(image.data)
      );
    },
  );

  // ─── Price alerts ──────────────────────────────────────────────────────────

  app.get(
    '/api/workspaces/:ws/price-alerts',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: "Customers' price alerts, newest first",
        params: wsParams,
        querystring: pageQuery.extend({
          productId: z.uuid().optional(),
          contactId: z.uuid().optional(),
          status: priceAlertStatus.optional(),
        }),
        response: { 200: pageOf(priceAlertSchema), ...commonErrors },
      },
    },
    async (request) => findPriceAlerts(ctx, { ...request.query, workspaceId: request.params.ws }),
  );

  app.delete(
    '/api/workspaces/:ws/price-alerts/:alertId',
    {
      config: { access: { role: 'operator' } },
      schema: {
        tags,
        security,
        summary: 'Cancel an active price alert (idempotent); 409 when it has already fired',
        params: z.object({ ws: z.uuid(), alertId: z.uuid() }),
        response: { 200: priceAlertSchema, ...commonErrors },
      },
    },
    async (request) => cancelPriceAlert(contextOf(ctx, request), request.params.ws, request.params.alertId),
  );
}

function filters(query: z.output<typeof filterQuery>) {
  return {
    ...(query.category ? { category: query.category } : {}),
    ...(query.price_min === undefined ? {} : { priceMin: query.price_min }),
    ...(query.price_max === undefined ? {} : { priceMax: query.price_max }),
    ...(query.available === undefined ? {} : { available: query.available }),
  };
}

/** `type/subtype` of a Content-Type header, lower-cased, without parameters. */
function mimeOf(header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function isImageType(type: string): type is ImageType {
  return Object.hasOwn(IMAGE_TYPES, type);
}

/** Drops inherited parsers of these types (another feature's global ones) before adding ours. */
function replaceParsers(scope: FastifyInstance, types: string[]) {
  for (const type of types) if (scope.hasContentTypeParser(type)) scope.removeContentTypeParser(type);
}
