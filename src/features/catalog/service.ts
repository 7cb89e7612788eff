import { createHash } from 'node:crypto';
import { and, desc, eq, gte, inArray, lt, lte, ne, or, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { AppContext, RequestContext } from '../../context.ts';
import type { DbOrTx } from '../../platform/db/index.ts';
import { selectRows } from '../../platform/db/rows.ts';
import { AppError } from '../../platform/errors.ts';
import { recordAudit } from '../audit/service.ts';
import { workspaces } from '../workspaces/schema.ts';
import { enqueuePriceAlertCheck } from './price-alerts.ts';
import { type PriceSource, productImages, productPriceHistory, products, productTerms } from './schema.ts';

export {
  cancelPriceAlert,
  checkPriceAlerts,
  createPriceAlert,
  findPriceAlerts,
  type PriceAlert,
  startCatalogWorkers,
} from './price-alerts.ts';

// ─── Types ───────────────────────────────────────────────────────────────────

/** A product as domain code and the API see it. */
export type Product = {
  id: string;
  workspaceId: string;
  sku: string;
  name: string;
  description: string | null;
  price: number;
  currency: string;
  category: string | null;
  imageUrl: string | null;
  available: boolean;
  attributes: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
};

/** A search result: the product and how well it matched (higher is better; 0 without a query). */
export type ProductHit = Product & { score: number };

export interface ProductQuery {
  /** Free text: full-text (stemmed Russian/English + exact words) and trigram similarity. */
  q?: string;
  /** Exact, case-insensitive. */
  category?: string;
  priceMin?: number;
  priceMax?: number;
  available?: boolean;
  /** 1–100, default 20. */
  limit?: number;
  cursor?: string;
}

/** The columns of `Product`, for selects (the search vector stays in the database). */
export const productColumns = {
  id: products.id,
  workspaceId: products.workspaceId,
  sku: products.sku,
  name: products.name,
  description: products.description,
  price: products.price,
  currency: products.currency,
  category: products.category,
  imageUrl: products.imageUrl,
  available: products.available,
  attributes: products.attributes,
  createdAt: products.createdAt,
  updatedAt: products.updatedAt,
};

// ─── Input ───────────────────────────────────────────────────────────────────

/** Largest price numeric(14,2) holds. */
export const MAX_PRICE = 999_999_999_999.99;

const hasCents = (value: number) => Math.abs(Math.round(value * 100) - value * 100) < 1e-6;

export const priceSchema = z
  .number()
  .finite()
  .min(0)
  .max(MAX_PRICE)
  .refine(hasCents, 'at most two decimal places');

export const currencySchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z]{3}$/, 'a three-letter ISO 4217 code')
  .transform((code) => code.toUpperCase());

export const skuSchema = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[^\s\p{Cc}]+$/u, 'no spaces or control characters');

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .transform((value) => (value === '' ? null : value))
    .nullable();

export const imageUrlSchema = z
  .string()
  .trim()
  .max(2000)
  .refine(
    (value) => value === '' || /^https?:\/\//i.test(value) || value.startsWith('/media/'),
    'an http(s) URL',
  )
  .transform((value) => (value === '' ? null : value))
  .nullable();

export const attributesSchema = z
  .record(z.string().max(100), z.unknown())
  .refine((value) => JSON.stringify(value).length <= 16_384, 'at most 16 KB of JSON');

/** What creating a product takes (also each row of an import). */
export const productInputSchema = z.strictObject({
  sku: skuSchema,
  name: z.string().trim().min(1).max(300),
  description: optionalText(10_000).optional(),
  price: priceSchema,
  currency: currencySchema.optional().describe("ISO 4217; the workspace's currency when omitted"),
  category: optionalText(200).optional(),
  imageUrl: imageUrlSchema.optional(),
  available: z.boolean().optional().describe('Default true'),
  attributes: attributesSchema.optional(),
});
export type ProductInput = z.input<typeof productInputSchema>;

/** What updating a product takes: any field of the input. */
export const productPatchSchema = productInputSchema.partial();
export type ProductPatch = z.input<typeof productPatchSchema>;

type ParsedPatch = z.output<typeof productPatchSchema>;

// ─── Reading ─────────────────────────────────────────────────────────────────

/** One product of the workspace, or null. */
export async function getProduct(
  ctx: Pick<AppContext, 'db'> | { db: DbOrTx },
  workspaceId: string,
  productId: string,
): Promise<Product | null> {
  if (!isUuid(productId)) return null;
  const [row] = await ctx.db
    .select(productColumns)
    .from(products)
    .where(and(eq(products.workspaceId, workspaceId), eq(products.id, productId)));
  return row ?? null;
}

/** The product with this SKU (case-insensitive, exact), or null. */
export async function findProductBySku(
  ctx: Pick<AppContext, 'db'> | { db: DbOrTx },
  workspaceId: string,
  sku: string,
): Promise<Product | null> {
  const [row] = await ctx.db
    .select(productColumns)
    .from(products)
    .where(and(eq(products.workspaceId, workspaceId), sql`lower(${products.sku}) = lower(${sku.trim()})`));
  return row ?? null;
}

/** Like getProduct, but NOT_FOUND when missing (for routes). */
export async function requireProduct(ctx: { db: DbOrTx }, workspaceId: string, productId: string) {
  const product = await getProduct(ctx, workspaceId, productId);
  if (!product) throw new AppError('NOT_FOUND', { message: 'Product not found' });
  return product;
}

/** Trigram similarity a vocabulary word needs to stand in for a misspelt query word ("дивн" ~ "диван" ≈ 0.38). */
const CORRECTION_THRESHOLD = 0.3;
/** Close vocabulary words tried per query word. */
const CORRECTIONS_PER_WORD = 3;
/** Trigram word similarity of the last-resort fuzzy match on names ("sofaa" ~ "Sofa" ≈ 0.67). */
const FUZZY_THRESHOLD = 0.5;
const MAX_QUERY_WORDS = 8;
/** Query words this short ("bn" of "BN-0042") only count together with the others, never alone. */
const MIN_ALONE_WORD = 3;
/** Matches of a tier that are ranked; see rankTier. */
export const RANK_WINDOW = 1000;

/**
 * Products of a workspace matching `query`, best first; without `q`, newest first.
 * Keyset-paginated over (score, id) — or (created_at, id) without `q`.
 *
 * Matching, in tiers (the first that finds anything within the filters wins, and the cursor
 * remembers it, so every page of one query uses the same tier):
 * 1. every query word, as a full-text prefix (Russian and English stems, exact words, the
 *    parts of the SKU) or as one of its close spellings from the workspace's vocabulary
 *    (`product_terms`), so "sofaa" and "дивн" still find sofas and диваны;
 * 2. any query word of three or more characters, the same way (chat messages carry words no
 *    product has);
 * 3. trigram word similarity of the whole query to the name or SKU.
 * Score: the share of query words matched, plus the trigram word similarity of the query to
 * the name (so a name match beats a mention in the description), plus a bonus for the exact SKU.
 *
 * Cost: each tier is one statement whose candidates come from the GIN indexes (full text or
 * trigram), so a query costs in proportion to the products it matches, not to the catalog.
 */
export async function searchProducts(
  ctx: Pick<AppContext, 'db'>,
  workspaceId: string,
  query: ProductQuery,
): Promise<{ items: ProductHit[]; nextCursor: string | null }> {
  const limit = Math.min(Math.max(Math.trunc(query.limit ?? 20), 1), 100);
  const filters: SQL[] = [eq(products.workspaceId, workspaceId)];
  const category = query.category?.trim();
  if (category) filters.push(sql`lower(${products.category}) = lower(${category})`);
  if (query.priceMin !== undefined) filters.push(gte(products.price, query.priceMin));
  if (query.priceMax !== undefined) filters.push(lte(products.price, query.priceMax));
  if (query.available !== undefined) filters.push(eq(products.available, query.available));
  const cursor = decodeSearchCursor(query.cursor);
  const text = (query.q ?? '').trim().slice(0, 200);
  const words = wordsOf(text);

  if (words.length === 0) {
    if (cursor?.kind === 'score') throw badCursor();
    const conditions = [...filters];
    if (cursor?.kind === 'time') {
      const at = sql`${cursor.at}::timestamptz`;
      const key = sql`date_trunc('milliseconds', ${products.createdAt})`;
      const after = or(lt(key, at), and(sql`${key} = ${at}`, lt(products.id, cursor.id)));
      if (after) conditions.push(after);
    }
    const rows = await ctx.db
      .select(productColumns)
      .from(products)
      .where(and(...conditions))
      .orderBy(desc(sql`date_trunc('milliseconds', ${products.createdAt})`), desc(products.id))
      .limit(limit + 1);
    const items = rows.slice(0, limit).map((row) => ({ ...row, score: 0 }));
    const last = items.at(-1);
    return {
      items,
      nextCursor:
        rows.length > limit && last
          ? encodeSearchCursor({ kind: 'time', at: last.createdAt.toISOString(), id: last.id })
          : null,
    };
  }

  if (cursor?.kind === 'time') throw badCursor();
  const lowered = text.toLowerCase();
  const { tier, ranked } = await ctx.db.transaction(async (tx) => {
    // Local to the transaction, so pooled connections keep the defaults. Sequential and plain
    // index scans are off because the planner cannot estimate prefix tsqueries and
    // word-similarity matches (it guesses a fixed share of the table): left to itself it
    // scans the catalog, or walks an index testing every product, for a word no product has,
    // while a bitmap from the GIN indexes answers that in a millisecond.
    await tx.execute(
      sql`select set_config('pg_trgm.similarity_threshold', ${String(CORRECTION_THRESHOLD)}, true),
        set_config('pg_trgm.word_similarity_threshold', ${String(FUZZY_THRESHOLD)}, true),
        set_config('enable_seqscan', 'off', true),
        set_config('enable_indexscan', 'off', true)`,
    );
    const tiers = searchTiers(await spellingsOf(tx, workspaceId, words), lowered);
    const after = cursor?.kind === 'score' ? cursor : undefined;
    const first = Math.min(after?.tier ?? 0, tiers.length - 1);
    for (let index = first; index < tiers.length; index++) {
      const candidate = tiers[index];
      if (!candidate) break;
      const rows = await rankTier(tx, filters, candidate, after, limit + 1);
      // A cursor pins its tier: past its end there is nothing more, not the next tier.
      if (rows.length > 0 || after) return { tier: index, ranked: rows };
    }
    return { tier: first, ranked: [] };
  });

  const page = ranked.slice(0, limit);
  const byId = new Map(
    page.length === 0
      ? []
      : (
          await ctx.db
            .select(productColumns)
            .from(products)
            .where(
              and(
                eq(products.workspaceId, workspaceId),
                inArray(
                  products.id,
                  page.map((row) => row.id),
                ),
              ),
            )
        ).map((row) => [row.id, row]),
  );
  const items = page.flatMap((row) => {
    const product = byId.get(row.id);
    return product ? [{ ...product, score: Number(row.score) }] : [];
  });
  const last = page.at(-1);
  return {
    items,
    nextCursor:
      ranked.length > limit && last
        ? encodeSearchCursor({ kind: 'score', tier, score: last.score, id: last.id })
        : null,
  };
}

/** One tier of a text search: which products it takes and how it scores them. */
interface SearchTier {
  match: SQL;
  score: SQL;
}

/** The tiers of `searchProducts`, from the query words' spellings and the whole query. */
function searchTiers(spellings: Array<{ word: string; tsquery: string }>, lowered: string): SearchTier[] {
  const vector = products.searchVector;
  const groupOf = (tsquery: string) =>
    sql`(to_tsquery('russian'::regconfig, ${tsquery}) || to_tsquery('simple'::regconfig, ${tsquery}))`;
  const groups = spellings.map((spelling) => groupOf(spelling.tsquery));
  const every = (list: SQL[]) => sql.join(list, sql` && `);
  // pg_trgm lower-cases by itself; the SKU counts through its words in the full-text step.
  const closeness = sql`word_similarity(${lowered}, ${products.name})
    + case when lower(${products.sku}) = ${lowered} then 3 else 0 end`;
  const matched = sql`(${sql.join(
    groups.map((group) => sql`(${vector} @@ ${group})::int`),
    sql` + `,
  )})::float8 / ${groups.length}`;
  const tiers: SearchTier[] = [];
  if (groups.length > 0) {
    tiers.push({ match: sql`${vector} @@ (${every(groups)})`, score: sql`1 + ${closeness}` });
    // "velvet armchair emerald" with no emerald one: the velvet armchairs before anything
    // velvet, which the window of the any-word tier might not reach.
    if (groups.length >= 3) {
      const allButOne = groups.map((_, left) => every(groups.filter((__, index) => index !== left)));
      tiers.push({
        match: sql`${vector} @@ (${sql.join(
          allButOne.map((query) => sql`(${query})`),
          sql` || `,
        )})`,
        score: sql`${matched} + ${closeness}`,
      });
    }
    const long = groups.filter((_, index) => (spellings[index]?.word.length ?? 0) >= MIN_ALONE_WORD);
    const alone = long.length > 0 ? long : groups;
    tiers.push({
      match: sql`${vector} @@ (${sql.join(alone, sql` || `)})`,
      score: sql`${matched} + ${closeness}`,
    });
  }
  tiers.push({
    match: sql`(${lowered} <% ${products.name} or ${lowered} <% ${products.sku})`,
    score: sql`${closeness}`,
  });
  return tiers;
}

const rankedRowSchema = z.object({ id: z.string(), score: z.coerce.string() });

/**
 * The ids and scores of one page of a tier, best first. The candidates are materialized
 * first, so the planner takes them from the GIN index and scores only those, instead of
 * walking the primary key in order and testing every product against the query. At most
 * RANK_WINDOW candidates are ranked (the first the index finds, in table order, so every page
 * of a query sees the same ones): a query as broad as "sofa" in a catalog of 100,000 matches
 * thousands of products that all contain the word, and scoring all of them would cost in
 * proportion to the catalog; filters (price, category) narrow such a query instead.
 */
async function rankTier(
  tx: DbOrTx,
  filters: SQL[],
  tier: SearchTier,
  after: { score: string; id: string } | undefined,
  count: number,
) {
  const keyset = after
    ? sql`where score < ${after.score}::numeric or (score = ${after.score}::numeric and id < ${after.id}::uuid)`
    : sql``;
  return selectRows(
    tx,
    sql`with candidates as materialized (
        select ${products.id} as id, round((${tier.score})::numeric, 6) as score
        from ${products} where ${and(...filters, tier.match)}
        limit ${RANK_WINDOW}
      )
      select id, score from candidates ${keyset}
      order by score desc, id desc limit ${count}`,
    rankedRowSchema,
  );
}

/**
 * Each query word as a `to_tsquery` text: the word as a prefix, or one of its close spellings
 * from the vocabulary. Words the Russian/English configuration drops as stop words ("what",
 * "под") are left out, unless nothing else is left.
 */
async function spellingsOf(
  tx: DbOrTx,
  workspaceId: string,
  words: string[],
): Promise<Array<{ word: string; tsquery: string }>> {
  const list = await tx
    .select({
      word: sql<string>`w.word`,
      stop: sql<boolean>`numnode(to_tsquery('russian'::regconfig, w.word)) = 0`,
      close: sql<string | null>`(select string_agg(t.term, ' ') from (
        select ${productTerms.term} as term from ${productTerms}
        where ${productTerms.workspaceId} = ${workspaceId} and ${productTerms.term} % w.word
          and ${productTerms.term} <> w.word
        order by similarity(${productTerms.term}, w.word) desc, ${productTerms.term}
        limit ${CORRECTIONS_PER_WORD}
      ) t)`,
    })
    .from(
      sql`(values ${sql.join(
        words.map((word) => sql`(${word}::text)`),
        sql`, `,
      )}) as w(word)`,
    );
  const kept = list.filter((row) => !row.stop);
  return (kept.length > 0 ? kept : list).map((row) => ({
    word: row.word,
    tsquery: [
      `${row.word}:*`,
      ...(row.close ?? '').split(' ').filter((term) => /^[\p{L}\p{N}]+$/u.test(term)),
    ].join(' | '),
  }));
}

/** Lower-cased words of a query (letters and digits), at most MAX_QUERY_WORDS. */
function wordsOf(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words.map((word) => word.slice(0, 64)))].slice(0, MAX_QUERY_WORDS);
}

/** Words worth correcting a query towards: lower-cased, with a letter, 3–40 characters. */
export function termsOf(texts: Array<string | null | undefined>): string[] {
  const terms = new Set<string>();
  for (const text of texts) {
    for (const word of text?.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
      if (word.length >= 3 && word.length <= 40 && /\p{L}/u.test(word)) terms.add(word);
    }
  }
  return [...terms];
}

/** Adds the words of product names and categories to the workspace's vocabulary. */
export async function recordTerms(
  tx: DbOrTx,
  workspaceId: string,
  texts: Array<string | null | undefined>,
): Promise<void> {
  const terms = termsOf(texts);
  for (let start = 0; start < terms.length; start += 1000) {
    await tx
      .insert(productTerms)
      .values(terms.slice(start, start + 1000).map((term) => ({ workspaceId, term })))
      .onConflictDoNothing();
  }
}

const searchCursorSchema = z.union([
  z.object({
    kind: z.literal('score'),
    /** The tier the first page found; a cursor without one starts at the first. */
    tier: z.number().int().min(0).max(3).optional(),
    score: z.string().regex(/^-?\d+(\.\d+)?$/),
    id: z.uuid(),
  }),
  z.object({ kind: z.literal('time'), at: z.iso.datetime({ offset: true }), id: z.uuid() }),
]);
type SearchCursor = z.infer<typeof searchCursorSchema>;

function encodeSearchCursor(cursor: SearchCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeSearchCursor(cursor: string | undefined): SearchCursor | undefined {
  if (!cursor) return undefined;
  try {
    return searchCursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch (cause) {
    throw badCursor(cause);
  }
}

function badCursor(cause?: unknown) {
  return new AppError('BAD_REQUEST', { message: 'invalid cursor', cause });
}

// ─── Writing ─────────────────────────────────────────────────────────────────

/** Creates a product (price history starts with it); 409 when the SKU exists in any case. */
export async function createProduct(
  ctx: RequestContext,
  options: { workspaceId: string; input: ProductInput },
): Promise<Product> {
  const input = productInputSchema.parse(options.input);
  const created = await ctx.db.transaction(async (tx) => {
    const currency = input.currency ?? (await workspaceCurrency(tx, options.workspaceId));
    const [row] = await tx
      .insert(products)
      .values({
        workspaceId: options.workspaceId,
        sku: input.sku,
        name: input.name,
        description: input.description ?? null,
        price: input.price,
        currency,
        category: input.category ?? null,
        imageUrl: input.imageUrl ?? null,
        available: input.available ?? true,
        attributes: input.attributes ?? {},
      })
      .onConflictDoNothing()
      .returning(productColumns);
    if (!row) throw new AppError('CONFLICT', { message: `A product with SKU ${input.sku} already exists` });
    await recordTerms(tx, options.workspaceId, [row.name, row.category]);
    await recordPriceChanges(tx, [
      { workspaceId: row.workspaceId, productId: row.id, oldPrice: null, newPrice: row.price, currency },
    ]);
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'product.create',
      targetType: 'product',
      targetId: row.id,
      after: row,
    });
    return row;
  });
  return created;
}

/**
 * Changes some fields of a product. A new price is written to the price history and starts a
 * price-alert check, as does the product becoming available again.
 */
export async function updateProduct(
  ctx: RequestContext,
  options: { workspaceId: string; productId: string; patch: ProductPatch; source?: PriceSource },
): Promise<Product> {
  const patch = productPatchSchema.parse(options.patch);
  const result = await ctx.db.transaction(async (tx) => {
    const [before] = await tx
      .select(productColumns)
      .from(products)
      .where(and(eq(products.workspaceId, options.workspaceId), eq(products.id, options.productId)))
      .for('update');
    if (!before) throw new AppError('NOT_FOUND', { message: 'Product not found' });
    const changes = changesOf(before, patch);
    if (Object.keys(changes).length === 0) return { product: before, recheck: false };
    if (changes.sku !== undefined) {
      const [clash] = await tx
        .select({ id: products.id })
        .from(products)
        .where(
          and(
            eq(products.workspaceId, options.workspaceId),
            sql`lower(${products.sku}) = lower(${changes.sku})`,
            ne(products.id, before.id),
          ),
        );
      if (clash)
        throw new AppError('CONFLICT', { message: `A product with SKU ${changes.sku} already exists` });
    }
    const priceChanged = changes.price !== undefined || changes.currency !== undefined;
    const [after] = await tx
      .update(products)
      .set({ ...changes, updatedAt: new Date(), ...(priceChanged ? { priceChangedAt: new Date() } : {}) })
      .where(eq(products.id, before.id))
      .returning(productColumns);
    if (!after) throw new AppError('NOT_FOUND', { message: 'Product not found' });
    if (changes.name !== undefined || changes.category !== undefined)
      await recordTerms(tx, options.workspaceId, [after.name, after.category]);
    if (priceChanged) {
      await recordPriceChanges(tx, [
        {
          workspaceId: after.workspaceId,
          productId: after.id,
          oldPrice: before.price,
          newPrice: after.price,
          currency: after.currency,
        },
      ]);
    }
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'product.update',
      targetType: 'product',
      targetId: after.id,
      before,
      after,
    });
    return { product: after, recheck: priceChanged || (changes.available === true && !before.available) };
  });
  if (result.recheck) await enqueuePriceAlertCheck(ctx, [result.product.id]);
  return result.product;
}

/** The fields of `patch` that differ from `before` (unchanged ones are left out). */
function changesOf(before: Product, patch: ParsedPatch) {
  const changes: Partial<Omit<Product, 'id' | 'workspaceId' | 'createdAt' | 'updatedAt'>> = {};
  if (patch.sku !== undefined && patch.sku !== before.sku) changes.sku = patch.sku;
  if (patch.name !== undefined && patch.name !== before.name) changes.name = patch.name;
  if (patch.description !== undefined && patch.description !== before.description)
    changes.description = patch.description;
  if (patch.price !== undefined && patch.price !== before.price) changes.price = patch.price;
  if (patch.currency !== undefined && patch.currency !== before.currency) changes.currency = patch.currency;
  if (patch.category !== undefined && patch.category !== before.category) changes.category = patch.category;
  if (patch.imageUrl !== undefined && patch.imageUrl !== before.imageUrl) changes.imageUrl = patch.imageUrl;
  if (patch.available !== undefined && patch.available !== before.available)
    changes.available = patch.available;
  if (patch.attributes !== undefined && !sameJson(patch.attributes, before.attributes))
    changes.attributes = patch.attributes;
  return changes;
}

/** Deletes a product with its history, images and alerts. */
export async function deleteProduct(ctx: RequestContext, workspaceId: string, productId: string) {
  await ctx.db.transaction(async (tx) => {
    const [before] = await tx
      .delete(products)
      .where(and(eq(products.workspaceId, workspaceId), eq(products.id, productId)))
      .returning(productColumns);
    if (!before) throw new AppError('NOT_FOUND', { message: 'Product not found' });
    await recordAudit(ctx, tx, {
      workspaceId,
      action: 'product.delete',
      targetType: 'product',
      targetId: productId,
      before,
    });
  });
}

export interface PriceChange {
  workspaceId: string;
  productId: string;
  oldPrice: number | null;
  newPrice: number;
  currency: string;
}

/** Appends rows to the price history (one multi-row insert). */
export async function recordPriceChanges(
  tx: DbOrTx,
  changes: PriceChange[],
  source: PriceSource = 'api',
): Promise<void> {
  if (changes.length === 0) return;
  await tx.insert(productPriceHistory).values(changes.map((change) => ({ ...change, source })));
}

/** A product's prices, newest first, keyset-paginated. */
export async function findPriceHistory(
  ctx: { db: DbOrTx },
  query: { workspaceId: string; productId: string; limit: number; cursor?: string | undefined },
) {
  await requireProduct(ctx, query.workspaceId, query.productId);
  const conditions: SQL[] = [
    eq(productPriceHistory.workspaceId, query.workspaceId),
    eq(productPriceHistory.productId, query.productId),
  ];
  const cursor = decodeSearchCursor(query.cursor);
  if (cursor?.kind === 'score') throw badCursor();
  const key = sql`date_trunc('milliseconds', ${productPriceHistory.changedAt})`;
  if (cursor) {
    const at = sql`${cursor.at}::timestamptz`;
    const older = or(lt(key, at), and(sql`${key} = ${at}`, lt(productPriceHistory.id, cursor.id)));
    if (older) conditions.push(older);
  }
  const rows = await ctx.db
    .select({
      id: productPriceHistory.id,
      productId: productPriceHistory.productId,
      oldPrice: productPriceHistory.oldPrice,
      newPrice: productPriceHistory.newPrice,
      currency: productPriceHistory.currency,
      source: productPriceHistory.source,
      changedAt: productPriceHistory.changedAt,
    })
    .from(productPriceHistory)
    .where(and(...conditions))
    .orderBy(desc(key), desc(productPriceHistory.id))
    .limit(query.limit + 1);
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor:
      rows.length > query.limit && last
        ? encodeSearchCursor({ kind: 'time', at: last.changedAt.toISOString(), id: last.id })
        : null,
  };
}

// ─── Images ──────────────────────────────────────────────────────────────────

/** Telegram fetches photos by URL up to 5 MB; a larger upload could never reach a customer. */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

export const IMAGE_TYPES = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
} as const;
export type ImageType = keyof typeof IMAGE_TYPES;

const EXTENSION_TYPES: Record<string, ImageType> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  webp: 'image/webp',
};

/** Whether the bytes really are what the content type says (magic numbers). */
function looksLike(type: ImageType, data: Uint8Array): boolean {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (type === 'image/png') return bytes.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex'));
  if (type === 'image/jpeg') return bytes.subarray(0, 3).equals(Buffer.from('ffd8ff', 'hex'));
  return (
    bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP'
  );
}

/** The public path of a stored image. */
export function imagePath(productId: string, hash: string, type: ImageType): string {
  return `/media/products/${productId}/${hash}.${IMAGE_TYPES[type]}`;
}

/** Images replaced longer ago than this are deleted: queued sends may still point at them. */
const REPLACED_IMAGE_GRACE_MS = 60 * 60 * 1000;

/**
 * Stores an uploaded photo and points the product's imageUrl at its public, content-hashed
 * URL (absolute with PUBLIC_URL, so Telegram can fetch it).
 */
export async function setProductImage(
  ctx: RequestContext,
  options: { workspaceId: string; productId: string; contentType: ImageType; data: Uint8Array },
): Promise<Product> {
  if (options.data.byteLength === 0) throw new AppError('BAD_REQUEST', { message: 'The image is empty' });
  if (options.data.byteLength > MAX_IMAGE_BYTES)
    throw new AppError('PAYLOAD_TOO_LARGE', { message: `Images are limited to ${MAX_IMAGE_BYTES} bytes` });
  if (!looksLike(options.contentType, options.data))
    throw new AppError('BAD_REQUEST', { message: `The body is not a ${options.contentType} image` });
  const hash = createHash('sha256').update(options.data).digest('hex').slice(0, 32);
  const path = imagePath(options.productId, hash, options.contentType);
  const publicUrl = ctx.config.PUBLIC_URL?.replace(/\/+$/, '');
  const imageUrl = publicUrl ? `${publicUrl}${path}` : path;
  return ctx.db.transaction(async (tx) => {
    const [before] = await tx
      .select(productColumns)
      .from(products)
      .where(and(eq(products.workspaceId, options.workspaceId), eq(products.id, options.productId)))
      .for('update');
    if (!before) throw new AppError('NOT_FOUND', { message: 'Product not found' });
    await tx
      .insert(productImages)
      .values({
        workspaceId: options.workspaceId,
        productId: options.productId,
        hash,
        contentType: options.contentType,
        size: options.data.byteLength,
        data: options.data,
      })
      .onConflictDoNothing();
    await tx
      .delete(productImages)
      .where(
        and(
          eq(productImages.productId, options.productId),
          ne(productImages.hash, hash),
          lt(productImages.createdAt, new Date(Date.now() - REPLACED_IMAGE_GRACE_MS)),
        ),
      );
    const [after] = await tx
      .update(products)
      .set({ imageUrl, updatedAt: new Date() })
      .where(eq(products.id, options.productId))
      .returning(productColumns);
    if (!after) throw new AppError('NOT_FOUND', { message: 'Product not found' });
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'product.image_upload',
      targetType: 'product',
      targetId: options.productId,
      before: { imageUrl: before.imageUrl },
      after: { imageUrl, size: options.data.byteLength, contentType: options.contentType },
    });
    return after;
  });
}

/** A stored image by its public file name (`<hash>.<ext>`), or null. */
export async function getProductImage(ctx: { db: DbOrTx }, productId: string, file: string) {
  const match = /^([0-9a-f]{32})\.(png|jpg|webp)$/.exec(file);
  if (!match?.[1] || !match[2] || !isUuid(productId)) return null;
  const type = EXTENSION_TYPES[match[2]];
  const [row] = await ctx.db
    .select({ contentType: productImages.contentType, data: productImages.data })
    .from(productImages)
    .where(and(eq(productImages.productId, productId), eq(productImages.hash, match[1])));
  if (!row || row.contentType !== type) return null;
  return { contentType: row.contentType, data: Buffer.from(row.data) };
}

// ─── Helpers ─────────────────────────────────────────────────────────────────

export async function workspaceCurrency(tx: DbOrTx, workspaceId: string): Promise<string> {
  const [workspace] = await tx
    .select({ currency: workspaces.currency })
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId));
  if (!workspace) throw new AppError('NOT_FOUND', { message: 'Workspace not found' });
  return workspace.currency;
}

/** JSON equality independent of key order. */
export function sameJson(a: unknown, b: unknown): boolean {
  return stableJson(a) === stableJson(b);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.entries(value)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, item]) => `${JSON.stringify(key)}:${stableJson(item)}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function isUuid(value: string): boolean {
  return UUID.test(value);
}
