import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import type { App } from '../../platform/http/create-server.ts';
import { commonErrors, dateTime } from '../../platform/http/schemas.ts';
import { contextOf } from '../access/check-access.ts';
import { API_KEY_SCOPES } from './schema.ts';
import { createApiKey, listApiKeys, revokeApiKey, toPublicApiKey } from './service.ts';

const apiKeySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(z.enum(API_KEY_SCOPES)),
    createdAt: dateTime,
    lastUsedAt: dateTime.nullable(),
    expiresAt: dateTime.nullable(),
    revokedAt: dateTime.nullable(),
  })
  .meta({ id: 'ApiKey' });

export function registerApiKeyRoutes(app: App, ctx: AppContext) {
  const tags = ['api-keys'];
  const security = [{ bearer: [] }];
  const wsParams = z.object({ ws: z.uuid() });

  app.get(
    '/api/workspaces/:ws/api-keys',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'API keys (never the secret)',
        params: wsParams,
        response: { 200: z.object({ items: z.array(apiKeySchema) }), ...commonErrors },
      },
    },
    async (request) => ({ items: (await listApiKeys(ctx, request.params.ws)).map(toPublicApiKey) }),
  );

  app.post(
    '/api/workspaces/:ws/api-keys',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Create a key; the secret is in this response only',
        description:
          'Scopes: read → acts as viewer, write → operator, admin → admin. Keys never act as owner.',
        params: wsParams,
        body: z.strictObject({
          name: z.string().trim().min(1).max(100),
          scopes: z.array(z.enum(API_KEY_SCOPES)).min(1).max(3),
          expiresAt: z.iso.datetime({ offset: true }).optional(),
        }),
        response: { 201: z.object({ key: apiKeySchema, secret: z.string() }), ...commonErrors },
      },
    },
    async (request, reply) => {
      const { key, secret } = await createApiKey(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        name: request.body.name,
        scopes: request.body.scopes,
        expiresAt: request.body.expiresAt ? new Date(request.body.expiresAt) : undefined,
      });
      return reply.code(201).send({ key: toPublicApiKey(key), secret });
    },
  );

  app.delete(
    '/api/workspaces/:ws/api-keys/:keyId',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Revoke a key; calls with it fail at once',
        params: z.object({ ws: z.uuid(), keyId: z.uuid() }),
        response: { 204: z.null(), ...commonErrors },
      },
    },
    async (request, reply) => {
      await revokeApiKey(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        keyId: request.params.keyId,
      });
      return reply.code(204).send(null);
    },
  );
}
