import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import type { App } from '../../platform/http/create-server.ts';
import { commonErrors, dateTime, pageOf, pageQuery } from '../../platform/http/schemas.ts';
import { findAuditEntries } from './service.ts';

const auditEntrySchema = z
  .object({
    id: z.uuid(),
    actorType: z.string(),
    actorId: z.string().nullable(),
    actorLabel: z.string().nullable(),
    action: z.string(),
    targetType: z.string(),
    targetId: z.string().nullable(),
    diff: z.record(z.string(), z.object({ before: z.unknown().optional(), after: z.unknown().optional() })),
    ip: z.string().nullable(),
    requestId: z.string().nullable(),
    createdAt: dateTime,
  })
  .meta({ id: 'AuditEntry' });

export function registerAuditRoutes(app: App, ctx: AppContext) {
  app.get(
    '/api/workspaces/:ws/audit',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags: ['audit'],
        security: [{ bearer: [] }],
        summary: 'Audit log, newest first, with filters and cursor pagination',
        params: z.object({ ws: z.uuid() }),
        querystring: pageQuery.extend({
          action: z.string().max(100).optional(),
          actorId: z.string().max(100).optional(),
          targetType: z.string().max(100).optional(),
          targetId: z.string().max(100).optional(),
          from: z.iso.datetime({ offset: true }).optional(),
          to: z.iso.datetime({ offset: true }).optional(),
        }),
        response: { 200: pageOf(auditEntrySchema), ...commonErrors },
      },
    },
    async (request) => {
      const { from, to, ...query } = request.query;
      const page = await findAuditEntries(ctx, {
        ...query,
        workspaceId: request.params.ws,
        from: from ? new Date(from) : undefined,
        to: to ? new Date(to) : undefined,
      });
      return { items: page.items.map(({ workspaceId: _, ...entry }) => entry), nextCursor: page.nextCursor };
    },
  );
}
