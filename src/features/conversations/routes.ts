import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { TELEGRAM_TEXT_LIMIT } from '../../pipeline/outgoing.ts';
import type { App } from '../../platform/http/create-server.ts';
import { commonErrors, dateTime, pageOf, pageQuery } from '../../platform/http/schemas.ts';
import { contextOf } from '../access/check-access.ts';
import {
  cancelBroadcast,
  createBroadcast,
  findBroadcasts,
  findContacts,
  findConversations,
  findMessages,
  getBroadcast,
  getContact,
  getConversation,
  sendMessageToContact,
  setContactStatus,
} from './service.ts';

const contactStatus = z.enum(['active', 'blocked']);
const conversationMode = z.enum(['bot', 'waiting', 'human', 'closed']);

const contactSchema = z
  .object({
    id: z.uuid(),
    channelId: z.uuid(),
    botId: z.uuid(),
    channelType: z.string(),
    channelUsername: z.string().nullable(),
    externalId: z.string(),
    username: z.string().nullable(),
    firstName: z.string().nullable(),
    lastName: z.string().nullable(),
    languageCode: z.string().nullable(),
    language: z.string().nullable().describe('Chosen with /language; else languageCode applies'),
    status: contactStatus,
    referrer: z.string().nullable().describe('Deep-link payload of the first /start'),
    messageCount: z.number().int(),
    firstSeenAt: dateTime,
    lastSeenAt: dateTime,
    createdAt: dateTime,
  })
  .meta({ id: 'Contact' });

const conversationSchema = z
  .object({
    id: z.uuid(),
    botId: z.uuid(),
    channelId: z.uuid(),
    contactId: z.uuid(),
    chatId: z.string(),
    mode: conversationMode,
    lastMessageAt: dateTime.nullable(),
    lastMessageText: z.string().nullable(),
    messageCount: z.number().int(),
    createdAt: dateTime,
    contact: z.object({
      id: z.uuid(),
      externalId: z.string(),
      username: z.string().nullable(),
      firstName: z.string().nullable(),
      lastName: z.string().nullable(),
      status: contactStatus,
    }),
  })
  .meta({ id: 'Conversation' });

const messageSchema = z
  .object({
    id: z.uuid(),
    conversationId: z.uuid(),
    direction: z.enum(['in', 'out']),
    type: z.string(),
    text: z.string().nullable(),
    payload: z.record(z.string(), z.unknown()),
    sender: z.enum(['customer', 'bot', 'operator', 'system']),
    senderUserId: z.uuid().nullable(),
    externalId: z.string().nullable(),
    status: z.enum(['received', 'queued', 'sending', 'sent', 'failed', 'unknown']),
    error: z.string().nullable(),
    createdAt: dateTime,
  })
  .meta({ id: 'Message' });

const broadcastFilterInput = z.strictObject({
  language: z.string().min(2).max(16).optional(),
  referrer: z.string().min(1).max(64).optional(),
  lastSeenAfter: z.iso.datetime({ offset: true }).optional(),
});

const broadcastSchema = z
  .object({
    id: z.uuid(),
    channelId: z.uuid(),
    text: z.string(),
    filter: z.object({
      language: z.string().optional(),
      referrer: z.string().optional(),
      lastSeenAfter: z.string().optional(),
    }),
    status: z.enum(['queued', 'running', 'done', 'cancelled']),
    total: z.number().int().describe('Contacts in the segment'),
    queued: z.number().int().describe('Messages written to the outbox so far'),
    progress: z
      .object({
        sent: z.number().int(),
        failed: z.number().int(),
        pending: z.number().int(),
        unknown: z.number().int().describe('Interrupted mid-call; not retried to avoid a duplicate'),
      })
      .describe('Delivery of the outbox rows of this broadcast'),
    createdBy: z.uuid().nullable(),
    createdAt: dateTime,
    finishedAt: dateTime.nullable(),
  })
  .meta({ id: 'Broadcast' });

const wsParams = z.object({ ws: z.uuid() });
const contactParams = z.object({ ws: z.uuid(), contactId: z.uuid() });
const conversationParams = z.object({ ws: z.uuid(), conversationId: z.uuid() });
const broadcastParams = z.object({ ws: z.uuid(), broadcastId: z.uuid() });
const searchText = z.string().trim().min(1).max(100);

/** Contacts, conversations, messages and broadcasts: the panel side of the pipeline. */
export function registerConversationRoutes(app: App, ctx: AppContext) {
  const tags = ['conversations'];
  const security = [{ bearer: [] }];

  // ─── Contacts ──────────────────────────────────────────────────────────────

  app.get(
    '/api/workspaces/:ws/contacts',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'Contacts, most recently seen first, with filters and cursor pagination',
        params: wsParams,
        querystring: pageQuery.extend({
          q: searchText.optional().describe('Substring of username, first or last name, or external id'),
          status: contactStatus.optional(),
          channelId: z.uuid().optional(),
          botId: z.uuid().optional(),
          referrer: z.string().max(64).optional(),
        }),
        response: { 200: pageOf(contactSchema), ...commonErrors },
      },
    },
    async (request) => findContacts(ctx, { ...request.query, workspaceId: request.params.ws }),
  );

  app.get(
    '/api/workspaces/:ws/contacts/:contactId',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'One contact',
        params: contactParams,
        response: { 200: contactSchema, ...commonErrors },
      },
    },
    async (request) => getContact(ctx, request.params.ws, request.params.contactId),
  );

  for (const [verb, status] of [
    ['block', 'blocked'],
    ['unblock', 'active'],
  ] as const) {
    app.post(
      `/api/workspaces/:ws/contacts/:contactId/${verb}`,
      {
        config: { access: { role: 'operator' } },
        schema: {
          tags,
          security,
          summary:
            verb === 'block'
              ? 'Block a contact: no operator messages nor broadcasts reach it'
              : 'Unblock a contact',
          params: contactParams,
          response: { 200: contactSchema, ...commonErrors },
        },
      },
      async (request) =>
        setContactStatus(contextOf(ctx, request), {
          workspaceId: request.params.ws,
          contactId: request.params.contactId,
          status,
        }),
    );
  }

  app.post(
    '/api/workspaces/:ws/contacts/:contactId/messages',
    {
      config: { access: { role: 'operator' } },
      schema: {
        tags,
        security,
        summary: 'Send a text to the contact as the bot; 409 when the contact is blocked',
        params: contactParams,
        body: z.strictObject({
          text: z
            .string()
            .trim()
            .min(1)
            .max(TELEGRAM_TEXT_LIMIT * 4),
        }),
        response: { 201: messageSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const message = await sendMessageToContact(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        contactId: request.params.contactId,
        text: request.body.text,
        userId: userIdOrNull(request),
      });
      return reply.code(201).send(message);
    },
  );

  // ─── Conversations ─────────────────────────────────────────────────────────

  app.get(
    '/api/workspaces/:ws/conversations',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'Conversations, latest message first, with filters and cursor pagination',
        params: wsParams,
        querystring: pageQuery.extend({
          mode: conversationMode.optional(),
          botId: z.uuid().optional(),
          channelId: z.uuid().optional(),
          q: searchText
            .optional()
            .describe("Substring of the contact's name or username, or the last message"),
        }),
        response: { 200: pageOf(conversationSchema), ...commonErrors },
      },
    },
    async (request) => findConversations(ctx, { ...request.query, workspaceId: request.params.ws }),
  );

  app.get(
    '/api/workspaces/:ws/conversations/:conversationId',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'One conversation',
        params: conversationParams,
        response: { 200: conversationSchema, ...commonErrors },
      },
    },
    async (request) => getConversation(ctx, request.params.ws, request.params.conversationId),
  );

  app.get(
    '/api/workspaces/:ws/conversations/:conversationId/messages',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'Messages of a conversation, newest first; pass nextCursor as `before` for older ones',
        params: conversationParams,
        querystring: z.object({
          limit: pageQuery.shape.limit,
          before: z.string().max(200).optional(),
        }),
        response: { 200: pageOf(messageSchema), ...commonErrors },
      },
    },
    async (request) =>
      findMessages(ctx, {
        ...request.query,
        workspaceId: request.params.ws,
        conversationId: request.params.conversationId,
      }),
  );

  // ─── Broadcasts ────────────────────────────────────────────────────────────

  app.get(
    '/api/workspaces/:ws/broadcasts',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'Broadcasts with their progress, newest first',
        params: wsParams,
        querystring: pageQuery,
        response: { 200: pageOf(broadcastSchema), ...commonErrors },
      },
    },
    async (request) => findBroadcasts(ctx, { ...request.query, workspaceId: request.params.ws }),
  );

  app.post(
    '/api/workspaces/:ws/broadcasts',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: "Send a text to the channel's active contacts matching the filter; runs in the background",
        params: wsParams,
        body: z.strictObject({
          channelId: z.uuid(),
          text: z.string().trim().min(1).max(TELEGRAM_TEXT_LIMIT),
          filter: broadcastFilterInput.optional(),
        }),
        response: { 202: broadcastSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const broadcast = await createBroadcast(contextOf(ctx, request), {
        ...request.body,
        workspaceId: request.params.ws,
        userId: userIdOrNull(request),
      });
      return reply.code(202).send(broadcast);
    },
  );

  app.get(
    '/api/workspaces/:ws/broadcasts/:broadcastId',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'One broadcast with its progress',
        params: broadcastParams,
        response: { 200: broadcastSchema, ...commonErrors },
      },
    },
    async (request) => getBroadcast(ctx, request.params.ws, request.params.broadcastId),
  );

  app.post(
    '/api/workspaces/:ws/broadcasts/:broadcastId/cancel',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Cancel a broadcast; its undelivered messages fail with "cancelled"',
        params: broadcastParams,
        response: { 200: broadcastSchema, ...commonErrors },
      },
    },
    async (request) =>
      cancelBroadcast(contextOf(ctx, request), request.params.ws, request.params.broadcastId),
  );
}

/** The signed-in user, or null for an API key (which has no user to record as sender). */
function userIdOrNull(request: FastifyRequest): string | null {
  return request.actor?.type === 'user' ? request.actor.userId : null;
}
