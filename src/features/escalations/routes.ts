import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import type { App } from '../../platform/http/create-server.ts';
import { commonErrors, dateTime, pageOf, pageQuery } from '../../platform/http/schemas.ts';
import { contextOf } from '../access/check-access.ts';
import { closeFromEscalation } from '../handoff/service.ts';
import { ESCALATION_SOURCES, ESCALATION_STATUSES, OPEN_STATUSES, PRIORITIES } from './schema.ts';
import {
  addNote,
  deleteEscalation,
  findEscalations,
  findNotes,
  getEscalation,
  updateEscalation,
} from './service.ts';
import { escalationSettingsSchema, getEscalationSettings, updateEscalationSettings } from './settings.ts';

const status = z.enum(ESCALATION_STATUSES);
const priority = z.enum(PRIORITIES);

export const escalationSchema = z
  .object({
    id: z.uuid(),
    conversationId: z.uuid(),
    contactId: z.uuid(),
    channelId: z.uuid(),
    botId: z.uuid(),
    channelType: z.string(),
    reason: z.string(),
    source: z.enum(ESCALATION_SOURCES),
    action: z
      .enum(['notify', 'transfer', 'log_only'])
      .describe("The bot config's escalation action at the time"),
    productId: z.uuid().nullable(),
    snapshot: z
      .array(
        z.object({
          direction: z.enum(['in', 'out']),
          sender: z.string(),
          type: z.string(),
          text: z.string().nullable(),
          at: z.string(),
        }),
      )
      .describe('The last messages of the conversation when it was raised, oldest first'),
    status,
    priority,
    assigneeId: z.uuid().nullable(),
    createdBy: z.uuid().nullable(),
    firstResponseAt: dateTime.nullable(),
    resolvedAt: dateTime.nullable(),
    slaDueAt: dateTime,
    slaRemindedAt: dateTime.nullable(),
    overdue: z.boolean().describe('Pending past its SLA due time'),
    contact: z.object({
      id: z.uuid(),
      externalId: z.string(),
      username: z.string().nullable(),
      firstName: z.string().nullable(),
      lastName: z.string().nullable(),
    }),
    conversation: z.object({
      id: z.uuid(),
      mode: z.enum(['bot', 'waiting', 'human', 'closed']),
      holderId: z.uuid().nullable(),
    }),
    createdAt: dateTime,
    updatedAt: dateTime,
  })
  .meta({ id: 'Escalation' });

const noteSchema = z
  .object({
    id: z.uuid(),
    escalationId: z.uuid(),
    authorId: z.uuid().nullable(),
    authorEmail: z.string().nullable(),
    body: z.string(),
    createdAt: dateTime,
  })
  .meta({ id: 'EscalationNote' });

const wsParams = z.object({ ws: z.uuid() });
const escalationParams = z.object({ ws: z.uuid(), escalationId: z.uuid() });

/** Escalations: the queue of conversations waiting for people, with notes and settings. */
export function registerEscalationRoutes(app: App, ctx: AppContext) {
  const tags = ['escalations'];
  const security = [{ bearer: [] }];

  app.get(
    '/api/workspaces/:ws/escalations',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'Escalations, newest first, with filters and cursor pagination',
        params: wsParams,
        querystring: pageQuery.extend({
          status: z
            .string()
            .max(100)
            .transform((value, issue) => {
              const names = value
                .split(',')
                .filter(Boolean)
                .flatMap((name) => (name === 'open' ? [...OPEN_STATUSES] : [name]));
              const parsed = z.array(status).safeParse(names);
              if (!parsed.success) {
                issue.addIssue({
                  code: 'custom',
                  message: `statuses are ${ESCALATION_STATUSES.join(', ')} (or open)`,
                });
                return z.NEVER;
              }
              return parsed.data;
            })
            .optional()
            .describe(
              'One status or several, comma-separated; `open` stands for pending,contacted,in_progress',
            ),
          assignee: z
            .union([z.uuid(), z.enum(['me', 'none'])])
            .optional()
            .describe('A user id, `me`, or `none` for unassigned'),
          channelId: z.uuid().optional(),
          botId: z.uuid().optional(),
          priority: priority.optional(),
          createdAfter: z.iso.datetime({ offset: true }).optional(),
          createdBefore: z.iso.datetime({ offset: true }).optional(),
          olderThanMinutes: z.coerce.number().int().min(0).max(525_600).optional().describe('Age filter'),
          overdue: z
            .enum(['true', 'false'])
            .transform((value) => value === 'true')
            .optional()
            .describe('Only pending escalations past their SLA'),
          q: z
            .string()
            .trim()
            .min(1)
            .max(100)
            .optional()
            .describe('Text in the reason, the snapshot or the contact name'),
        }),
        response: { 200: pageOf(escalationSchema), ...commonErrors },
      },
    },
    async (request) => {
      const query = request.query;
      const assigneeId =
        query.assignee === 'me'
          ? request.actor?.type === 'user'
            ? request.actor.userId
            : 'none'
          : query.assignee;
      return findEscalations(ctx, {
        workspaceId: request.params.ws,
        status: query.status,
        assigneeId,
        channelId: query.channelId,
        botId: query.botId,
        priority: query.priority,
        createdAfter: query.createdAfter ? new Date(query.createdAfter) : undefined,
        createdBefore: query.createdBefore ? new Date(query.createdBefore) : undefined,
        olderThanMinutes: query.olderThanMinutes,
        overdue: query.overdue,
        q: query.q,
        limit: query.limit,
        cursor: query.cursor,
      });
    },
  );

  app.get(
    '/api/workspaces/:ws/escalations/:escalationId',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'One escalation with its snapshot',
        params: escalationParams,
        response: { 200: escalationSchema, ...commonErrors },
      },
    },
    async (request) => getEscalation(ctx, request.params.ws, request.params.escalationId),
  );

  app.patch(
    '/api/workspaces/:ws/escalations/:escalationId',
    {
      config: { access: { role: 'operator' } },
      schema: {
        tags,
        security,
        summary: 'Change status, priority or assignee',
        description:
          'Statuses: pending → contacted | in_progress → resolved, or cancelled. Resolving or cancelling gives the conversation back to the bot (resolving tells the customer). Closed escalations refuse status and assignee changes (409).',
        params: escalationParams,
        body: z.strictObject({
          status: status.optional(),
          priority: priority.optional(),
          assigneeId: z
            .uuid()
            .nullable()
            .optional()
            .describe('A member with the operator role or above; null to unassign'),
        }),
        response: { 200: escalationSchema, ...commonErrors },
      },
    },
    async (request) => {
      const rctx = contextOf(ctx, request);
      const userId = request.actor?.type === 'user' ? request.actor.userId : null;
      const close = await closeFromEscalation(rctx, {
        workspaceId: request.params.ws,
        escalationId: request.params.escalationId,
        userId,
      });
      const escalation = await updateEscalation(rctx, {
        workspaceId: request.params.ws,
        escalationId: request.params.escalationId,
        patch: request.body,
        onClose: close.onClose,
      });
      await close.apply();
      return escalation;
    },
  );

  app.delete(
    '/api/workspaces/:ws/escalations/:escalationId',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Delete an escalation and its notes',
        params: escalationParams,
        response: { 204: z.null().describe('Deleted'), ...commonErrors },
      },
    },
    async (request, reply) => {
      await deleteEscalation(contextOf(ctx, request), request.params.ws, request.params.escalationId);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/workspaces/:ws/escalations/:escalationId/notes',
    {
      config: { access: { role: 'operator' } },
      schema: {
        tags,
        security,
        summary: 'Internal notes of an escalation, oldest first',
        params: escalationParams,
        querystring: pageQuery,
        response: { 200: pageOf(noteSchema), ...commonErrors },
      },
    },
    async (request) =>
      findNotes(ctx, {
        workspaceId: request.params.ws,
        escalationId: request.params.escalationId,
        limit: request.query.limit,
        cursor: request.query.cursor,
      }),
  );

  app.post(
    '/api/workspaces/:ws/escalations/:escalationId/notes',
    {
      config: { access: { role: 'operator' } },
      schema: {
        tags,
        security,
        summary: 'Add an internal note (never shown to the customer)',
        params: escalationParams,
        body: z.strictObject({ body: z.string().trim().min(1).max(10_000) }),
        response: { 201: noteSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const note = await addNote(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        escalationId: request.params.escalationId,
        authorId: request.actor?.type === 'user' ? request.actor.userId : null,
        body: request.body.body,
      });
      return reply.code(201).send(note);
    },
  );

  // ─── Settings ──────────────────────────────────────────────────────────────

  app.get(
    '/api/workspaces/:ws/settings/escalations',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Escalation settings: SLA, assignment, notifications',
        params: wsParams,
        response: { 200: escalationSettingsSchema, ...commonErrors },
      },
    },
    async (request) => getEscalationSettings(ctx.db, request.params.ws),
  );

  app.put(
    '/api/workspaces/:ws/settings/escalations',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Replace the escalation settings (missing fields take their defaults)',
        params: wsParams,
        body: escalationSettingsSchema,
        response: { 200: escalationSettingsSchema, ...commonErrors },
      },
    },
    async (request) => updateEscalationSettings(contextOf(ctx, request), request.params.ws, request.body),
  );
}
