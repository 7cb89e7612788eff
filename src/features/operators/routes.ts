import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import type { App } from '../../platform/http/create-server.ts';
import { commonErrors, dateTime } from '../../platform/http/schemas.ts';
import { contextOf, userIdOf } from '../access/check-access.ts';
import { PRESENCE_STATUSES } from './schema.ts';
import { listPresence, setMaxChats, setPresence } from './service.ts';

const presenceSchema = z
  .object({
    userId: z.uuid(),
    email: z.string(),
    name: z.string(),
    role: z.enum(['viewer', 'operator', 'admin', 'owner']),
    status: z.enum(PRESENCE_STATUSES),
    lastSeenAt: dateTime.nullable(),
    activeChats: z.number().int().describe('Conversations held plus open escalations assigned'),
    maxChats: z.number().int(),
  })
  .meta({ id: 'OperatorPresence' });

/** Operator presence (heartbeats) and capacity. */
export function registerOperatorRoutes(app: App, ctx: AppContext) {
  const tags = ['operators'];
  const security = [{ bearer: [] }];

  app.put(
    '/api/workspaces/:ws/presence',
    {
      config: { access: { role: 'operator', apiKeys: false } },
      schema: {
        tags,
        security,
        summary: 'Set your presence; calling it again is the heartbeat',
        description:
          'Without a heartbeat for OPERATOR_PRESENCE_TIMEOUT_MS (90 s by default) you go offline; going offline puts your open escalations back in the queue and your conversations back to waiting.',
        params: z.object({ ws: z.uuid() }),
        body: z.strictObject({ status: z.enum(PRESENCE_STATUSES) }),
        response: { 200: presenceSchema, ...commonErrors },
      },
    },
    async (request) =>
      setPresence(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        userId: userIdOf(request),
        status: request.body.status,
      }),
  );

  app.get(
    '/api/workspaces/:ws/presence',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'Every operator with presence, active chats and capacity; online first',
        params: z.object({ ws: z.uuid() }),
        response: { 200: z.object({ items: z.array(presenceSchema) }), ...commonErrors },
      },
    },
    async (request) => ({ items: await listPresence(ctx, request.params.ws) }),
  );

  app.put(
    '/api/workspaces/:ws/operators/:userId',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: "Set a member's maximum of concurrent chats",
        params: z.object({ ws: z.uuid(), userId: z.uuid() }),
        body: z.strictObject({ maxChats: z.number().int().min(0).max(1000) }),
        response: { 200: presenceSchema, ...commonErrors },
      },
    },
    async (request) =>
      setMaxChats(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        userId: request.params.userId,
        maxChats: request.body.maxChats,
      }),
  );
}
