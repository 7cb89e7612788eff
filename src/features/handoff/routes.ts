import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { TELEGRAM_TEXT_LIMIT } from '../../pipeline/outgoing.ts';
import { AppError } from '../../platform/errors.ts';
import type { App } from '../../platform/http/create-server.ts';
import { commonErrors, dateTime } from '../../platform/http/schemas.ts';
import { contextOf, roleOfRequest, userIdOf } from '../access/check-access.ts';
import { escalationSchema } from '../escalations/routes.ts';
import { PRIORITIES } from '../escalations/schema.ts';
import { hasRole } from '../workspaces/service.ts';
import {
  createCannedResponse,
  deleteCannedResponse,
  escalateFromPanel,
  listCannedResponses,
  type OperatorReply,
  release,
  resolve,
  sendOperatorMessage,
  takeOver,
  updateCannedResponse,
} from './service.ts';

const handoffSchema = z
  .object({
    conversationId: z.uuid(),
    mode: z.enum(['bot', 'waiting', 'human', 'closed']),
    holderId: z.uuid().nullable().describe('The operator holding the conversation in human mode'),
    heldSince: dateTime.nullable(),
    escalation: z
      .object({
        id: z.uuid(),
        status: z.enum(['pending', 'contacted', 'in_progress', 'resolved', 'cancelled']),
        assigneeId: z.uuid().nullable(),
      })
      .nullable()
      .describe('The open escalation, if any'),
  })
  .meta({ id: 'Handoff' });

const operatorMessageSchema = z
  .object({
    id: z.uuid(),
    conversationId: z.uuid(),
    direction: z.enum(['in', 'out']),
    type: z.string(),
    text: z.string().nullable(),
    sender: z.enum(['customer', 'bot', 'operator', 'system']),
    senderUserId: z.uuid().nullable(),
    status: z.enum(['received', 'queued', 'sending', 'sent', 'failed', 'unknown']),
    createdAt: dateTime,
  })
  .meta({ id: 'OperatorMessage' });

const cannedSchema = z
  .object({
    id: z.uuid(),
    shortcut: z.string(),
    text: z.string(),
    createdBy: z.uuid().nullable(),
    createdAt: dateTime,
    updatedAt: dateTime,
  })
  .meta({ id: 'CannedResponse' });

const conversationParams = z.object({ ws: z.uuid(), conversationId: z.uuid() });
const wsParams = z.object({ ws: z.uuid() });
const cannedParams = z.object({ ws: z.uuid(), cannedResponseId: z.uuid() });
const shortcut = z
  .string()
  .trim()
  .min(1)
  .max(50)
  .regex(/^[\p{L}\p{N}_-]+$/u, 'letters, digits, _ and - only');
const cannedText = z.string().trim().min(1).max(TELEGRAM_TEXT_LIMIT);

/** Live handoff: take over, reply, release, resolve, escalate from the panel; canned responses. */
export function registerHandoffRoutes(app: App, ctx: AppContext) {
  const tags = ['handoff'];
  const security = [{ bearer: [] }];
  // Only people hold conversations: an API key has no presence and no capacity.
  const operatorOnly = { role: 'operator', apiKeys: false } as const;

  app.post(
    '/api/workspaces/:ws/conversations/:conversationId/takeover',
    {
      config: { access: operatorOnly },
      schema: {
        tags,
        security,
        summary: 'Take the conversation over from the bot (mode human)',
        description:
          'Needs presence online and room under your max concurrent chats (409 otherwise, `details.reason` not_online | at_capacity | held). The open escalation becomes in_progress and yours; the customer is told (config `messages.operatorJoined`).',
        params: conversationParams,
        response: { 200: handoffSchema, ...commonErrors },
      },
    },
    async (request) =>
      takeOver(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        conversationId: request.params.conversationId,
        userId: userIdOf(request),
      }),
  );

  app.post(
    '/api/workspaces/:ws/conversations/:conversationId/release',
    {
      config: { access: { role: 'operator' } },
      schema: {
        tags,
        security,
        summary: 'Give the conversation back to the bot, with an optional closing message',
        description:
          'Without `message` the customer gets the config text `messages.backToBot`. The escalation stays open until resolved. Only the holder or an admin may release.',
        params: conversationParams,
        body: z
          .strictObject({ message: z.string().trim().min(1).max(TELEGRAM_TEXT_LIMIT).optional() })
          .nullish(),
        response: { 200: handoffSchema, ...commonErrors },
      },
    },
    async (request) =>
      release(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        conversationId: request.params.conversationId,
        userId: request.actor?.type === 'user' ? request.actor.userId : null,
        isAdmin: hasRole(roleOfRequest(request), 'admin'),
        message: request.body?.message,
      }),
  );

  app.post(
    '/api/workspaces/:ws/conversations/:conversationId/resolve',
    {
      config: { access: { role: 'operator' } },
      schema: {
        tags,
        security,
        summary: 'Resolve the open escalation and give the conversation back to the bot',
        description: 'The customer gets `message`, else the config text `messages.resolved`.',
        params: conversationParams,
        body: z
          .strictObject({ message: z.string().trim().min(1).max(TELEGRAM_TEXT_LIMIT).optional() })
          .nullish(),
        response: { 200: handoffSchema, ...commonErrors },
      },
    },
    async (request) =>
      resolve(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        conversationId: request.params.conversationId,
        userId: request.actor?.type === 'user' ? request.actor.userId : null,
        message: request.body?.message,
      }),
  );

  app.post(
    '/api/workspaces/:ws/conversations/:conversationId/escalate',
    {
      config: { access: { role: 'operator' } },
      schema: {
        tags,
        security,
        summary: 'Raise an escalation on the conversation (idempotent while one is open)',
        description: '201 with the new escalation, or 200 with the one already open.',
        params: conversationParams,
        body: z.strictObject({
          reason: z.string().trim().min(1).max(2000),
          priority: z.enum(PRIORITIES).optional(),
          productId: z.uuid().optional(),
        }),
        response: { 200: escalationSchema, 201: escalationSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const result = await escalateFromPanel(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        conversationId: request.params.conversationId,
        userId: request.actor?.type === 'user' ? request.actor.userId : null,
        ...request.body,
      });
      return reply.code(result.created ? 201 : 200).send(result.escalation);
    },
  );

  app.post(
    '/api/workspaces/:ws/conversations/:conversationId/messages',
    {
      config: { access: { role: 'operator' } },
      schema: {
        tags,
        security,
        summary: 'Reply to the customer as an operator (text, photo by URL, or a canned response)',
        description:
          "Exactly one of `text`, `photoUrl` (with optional `caption`) or `cannedResponseId`. Delivered through the outbox with the bot's pacing. With `clientMessageId`, a retried request sends nothing twice. 409 when another operator holds the conversation or the customer blocked the bot.",
        params: conversationParams,
        body: z
          .strictObject({
            text: z
              .string()
              .trim()
              .min(1)
              .max(TELEGRAM_TEXT_LIMIT * 4)
              .optional(),
            photoUrl: z
              .url({ protocol: /^https?$/ })
              .max(2000)
              .optional(),
            caption: z.string().trim().max(1024).optional(),
            cannedResponseId: z.uuid().optional(),
            clientMessageId: z
              .string()
              .regex(/^[A-Za-z0-9_-]{1,64}$/)
              .optional(),
          })
          .refine(
            (body) =>
              [body.text, body.photoUrl, body.cannedResponseId].filter((value) => value !== undefined)
                .length === 1,
            { message: 'Send exactly one of text, photoUrl or cannedResponseId' },
          ),
        response: { 201: operatorMessageSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const replyBody: OperatorReply = body.text
        ? { kind: 'text', text: body.text }
        : body.photoUrl
          ? { kind: 'photo', photoUrl: body.photoUrl, caption: body.caption }
          : body.cannedResponseId
            ? { kind: 'canned', cannedResponseId: body.cannedResponseId }
            : invalid();
      const message = await sendOperatorMessage(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        conversationId: request.params.conversationId,
        userId: request.actor?.type === 'user' ? request.actor.userId : null,
        reply: replyBody,
        clientMessageId: body.clientMessageId,
      });
      return reply.code(201).send(message);
    },
  );

  // ─── Canned responses ──────────────────────────────────────────────────────

  app.get(
    '/api/workspaces/:ws/canned-responses',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'Canned responses of the workspace, by shortcut',
        params: wsParams,
        response: { 200: z.object({ items: z.array(cannedSchema) }), ...commonErrors },
      },
    },
    async (request) => ({ items: await listCannedResponses(ctx, request.params.ws) }),
  );

  app.post(
    '/api/workspaces/:ws/canned-responses',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Add a canned response (409 when the shortcut is taken)',
        params: wsParams,
        body: z.strictObject({ shortcut, text: cannedText }),
        response: { 201: cannedSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const row = await createCannedResponse(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        ...request.body,
        userId: request.actor?.type === 'user' ? request.actor.userId : null,
      });
      return reply.code(201).send(row);
    },
  );

  app.patch(
    '/api/workspaces/:ws/canned-responses/:cannedResponseId',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Change a canned response',
        params: cannedParams,
        body: z.strictObject({ shortcut: shortcut.optional(), text: cannedText.optional() }),
        response: { 200: cannedSchema, ...commonErrors },
      },
    },
    async (request) =>
      updateCannedResponse(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        id: request.params.cannedResponseId,
        ...request.body,
      }),
  );

  app.delete(
    '/api/workspaces/:ws/canned-responses/:cannedResponseId',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Delete a canned response',
        params: cannedParams,
        response: { 204: z.null().describe('Deleted'), ...commonErrors },
      },
    },
    async (request, reply) => {
      await deleteCannedResponse(contextOf(ctx, request), request.params.ws, request.params.cannedResponseId);
      return reply.code(204).send(null);
    },
  );
}

function invalid(): never {
  throw new AppError('BAD_REQUEST', { message: 'Send exactly one of text, photoUrl or cannedResponseId' });
}
