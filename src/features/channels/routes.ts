import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import type { App } from '../../platform/http/create-server.ts';
import { commonErrors, dateTime } from '../../platform/http/schemas.ts';
import { contextOf } from '../access/check-access.ts';
import {
  connectTelegramChannel,
  deleteChannel,
  getChannel,
  listChannels,
  TELEGRAM_TOKEN_PATTERN,
  toPublicChannel,
  updateChannel,
} from './service.ts';

const channelSchema = z
  .object({
    id: z.uuid(),
    botId: z.uuid(),
    type: z.enum(['telegram', 'whatsapp', 'web']),
    mode: z.enum(['webhook', 'polling']),
    status: z.enum(['active', 'error', 'disabled']),
    externalId: z.string().describe("The messenger's id of the bot account"),
    username: z.string().nullable(),
    displayName: z.string().nullable(),
    webhookUrl: z.string().nullable().describe('Where Telegram posts updates (webhook mode)'),
    lastError: z.string().nullable(),
    lastErrorAt: dateTime.nullable(),
    createdAt: dateTime,
    updatedAt: dateTime,
  })
  .meta({ id: 'Channel' });

const botParams = z.object({ ws: z.uuid(), bot: z.uuid() });
const channelParams = botParams.extend({ channelId: z.uuid() });

const tokenSchema = z
  .string()
  .trim()
  .regex(TELEGRAM_TOKEN_PATTERN, 'must be a bot token from @BotFather, like 123456789:AAE…')
  .describe('The bot token from @BotFather; stored encrypted and never returned');
const modeSchema = z
  .enum(['webhook', 'polling'])
  .describe('webhook needs PUBLIC_URL; polling works behind NAT without a public address');

/** A bot's messenger channels: connecting Telegram tokens, switching delivery modes. */
export function registerChannelRoutes(app: App, ctx: AppContext) {
  const tags = ['channels'];
  const security = [{ bearer: [] }];
  const publicUrl = ctx.config.PUBLIC_URL;

  app.get(
    '/api/workspaces/:ws/bots/:bot/channels',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: "The bot's channels (never their tokens)",
        params: botParams,
        response: { 200: z.object({ items: z.array(channelSchema) }), ...commonErrors },
      },
    },
    async (request) => {
      const rows = await listChannels(ctx, { workspaceId: request.params.ws, botId: request.params.bot });
      return { items: rows.map((row) => toPublicChannel(row, publicUrl)) };
    },
  );

  app.post(
    '/api/workspaces/:ws/bots/:bot/channels',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Connect a Telegram bot token',
        description:
          'Checks the token with getMe, then sets the webhook (webhook mode) or removes it (polling mode). Mode defaults to webhook when PUBLIC_URL is set, else polling. 400 for a token Telegram rejects, 409 for a token already connected, 502 when Telegram is unreachable.',
        params: botParams,
        body: z.strictObject({
          type: z.literal('telegram'),
          token: tokenSchema,
          mode: modeSchema.optional(),
        }),
        response: { 201: channelSchema, ...commonErrors, 502: commonErrors[400] },
      },
    },
    async (request, reply) => {
      const channel = await connectTelegramChannel(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        botId: request.params.bot,
        token: request.body.token,
        mode: request.body.mode ?? (publicUrl ? 'webhook' : 'polling'),
      });
      return reply.code(201).send(toPublicChannel(channel, publicUrl));
    },
  );

  app.get(
    '/api/workspaces/:ws/bots/:bot/channels/:channelId',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'One channel',
        params: channelParams,
        response: { 200: channelSchema, ...commonErrors },
      },
    },
    async (request) =>
      toPublicChannel(
        await getChannel(ctx, {
          workspaceId: request.params.ws,
          botId: request.params.bot,
          channelId: request.params.channelId,
        }),
        publicUrl,
      ),
  );

  app.patch(
    '/api/workspaces/:ws/bots/:bot/channels/:channelId',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Switch the mode, disable or resume, or replace the token',
        description:
          'Re-registers with Telegram when something changed. A new token must belong to the same Telegram bot; it brings a channel stopped by a revoked token back to active.',
        params: channelParams,
        body: z.strictObject({
          mode: modeSchema.optional(),
          status: z.enum(['active', 'disabled']).optional(),
          token: tokenSchema.optional(),
        }),
        response: { 200: channelSchema, ...commonErrors, 502: commonErrors[400] },
      },
    },
    async (request) =>
      toPublicChannel(
        await updateChannel(contextOf(ctx, request), {
          workspaceId: request.params.ws,
          botId: request.params.bot,
          channelId: request.params.channelId,
          patch: request.body,
        }),
        publicUrl,
      ),
  );

  app.delete(
    '/api/workspaces/:ws/bots/:bot/channels/:channelId',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Disconnect a channel',
        description: "Calls deleteWebhook first; the channel is deleted even if Telegram can't be reached.",
        params: channelParams,
        response: { 204: z.null(), ...commonErrors },
      },
    },
    async (request, reply) => {
      await deleteChannel(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        botId: request.params.bot,
        channelId: request.params.channelId,
      });
      return reply.code(204).send(null);
    },
  );
}
