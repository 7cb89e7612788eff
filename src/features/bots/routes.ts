import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { createDefaultResponder } from '../../pipeline/index.ts';
import type { App } from '../../platform/http/create-server.ts';
import { commonErrors, dateTime, pageOf, pageQuery } from '../../platform/http/schemas.ts';
import { contextOf } from '../access/check-access.ts';
import { botConfigSchema } from './bot-config.ts';
import { playgroundBodySchema, playgroundResultSchema, runPlayground } from './playground.ts';
import {
  type Bot,
  createBot,
  deleteBot,
  discardBotConfigDraft,
  getBot,
  getBotConfigState,
  getBotConfigVersion,
  listBotConfigVersions,
  listBots,
  publishBotConfig,
  rollbackBotConfig,
  saveBotConfigDraft,
  updateBot,
} from './service.ts';

const botSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string(),
    status: z.enum(['active', 'paused']),
    publishedVersion: z.number().int().describe('Version of the config the bot answers with'),
    createdAt: dateTime,
    updatedAt: dateTime,
  })
  .meta({ id: 'Bot' });

const versionSchema = z
  .object({
    version: z.number().int().nullable().describe('Null for the draft'),
    status: z.enum(['draft', 'published', 'archived']),
    config: botConfigSchema,
    note: z.string(),
    author: z.object({ id: z.uuid(), email: z.string(), name: z.string() }).nullable(),
    publishedAt: dateTime.nullable(),
    createdAt: dateTime,
    updatedAt: dateTime,
  })
  .meta({ id: 'BotConfigVersion' });

const wsParams = z.object({ ws: z.uuid() });
const botParams = z.object({ ws: z.uuid(), bot: z.uuid() });
const note = z.string().trim().max(500).optional().describe('Why, for the version history');

function toBotOut(bot: Bot) {
  const { id, name, description, status, publishedVersion, createdAt, updatedAt } = bot;
  return { id, name, description, status, publishedVersion, createdAt, updatedAt };
}

/** Bots and the versions of their config (draft → publish → rollback). */
export function registerBotRoutes(app: App, ctx: AppContext) {
  const tags = ['bots'];
  const security = [{ bearer: [] }];

  app.get(
    '/api/workspaces/:ws/bots',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'Bots, newest first, with cursor pagination',
        params: wsParams,
        querystring: pageQuery,
        response: { 200: pageOf(botSchema), ...commonErrors },
      },
    },
    async (request) => {
      const page = await listBots(ctx, { workspaceId: request.params.ws, ...request.query });
      return { items: page.items.map(toBotOut), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/api/workspaces/:ws/bots',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Create a bot; version 1 of its config is published with the defaults',
        params: wsParams,
        body: z.strictObject({
          name: z.string().trim().min(1).max(120),
          description: z.string().trim().max(2000).optional(),
        }),
        response: { 201: botSchema.extend({ config: botConfigSchema }), ...commonErrors },
      },
    },
    async (request, reply) => {
      const { bot, config } = await createBot(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        ...request.body,
      });
      return reply.code(201).send({ ...toBotOut(bot), config });
    },
  );

  app.get(
    '/api/workspaces/:ws/bots/:bot',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'One bot',
        params: botParams,
        response: { 200: botSchema, ...commonErrors },
      },
    },
    async (request) =>
      toBotOut(await getBot(ctx, { workspaceId: request.params.ws, botId: request.params.bot })),
  );

  app.patch(
    '/api/workspaces/:ws/bots/:bot',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Rename, describe, pause or resume a bot',
        description: 'A paused bot keeps receiving and storing messages but does not answer them.',
        params: botParams,
        body: z.strictObject({
          name: z.string().trim().min(1).max(120).optional(),
          description: z.string().trim().max(2000).optional(),
          status: z.enum(['active', 'paused']).optional(),
        }),
        response: { 200: botSchema, ...commonErrors },
      },
    },
    async (request) =>
      toBotOut(
        await updateBot(contextOf(ctx, request), {
          workspaceId: request.params.ws,
          botId: request.params.bot,
          patch: request.body,
        }),
      ),
  );

  app.delete(
    '/api/workspaces/:ws/bots/:bot',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Delete a bot with its config history and channels',
        params: botParams,
        response: { 204: z.null(), ...commonErrors },
      },
    },
    async (request, reply) => {
      await deleteBot(contextOf(ctx, request), { workspaceId: request.params.ws, botId: request.params.bot });
      return reply.code(204).send(null);
    },
  );

  // ─── Config ────────────────────────────────────────────────────────────────

  app.get(
    '/api/workspaces/:ws/bots/:bot/config',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'The published config and the draft, if any',
        params: botParams,
        response: {
          200: z.object({ published: versionSchema, draft: versionSchema.nullable() }),
          ...commonErrors,
        },
      },
    },
    async (request) => getBotConfigState(ctx, { workspaceId: request.params.ws, botId: request.params.bot }),
  );

  app.put(
    '/api/workspaces/:ws/bots/:bot/config/draft',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Create or replace the draft',
        description:
          'Fields left out take their defaults (not the published values): send the whole config you want, e.g. the published one with your changes.',
        params: botParams,
        body: z.strictObject({ config: botConfigSchema, note }),
        response: { 200: versionSchema, ...commonErrors },
      },
    },
    async (request) =>
      saveBotConfigDraft(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        botId: request.params.bot,
        config: request.body.config,
        note: request.body.note,
      }),
  );

  app.delete(
    '/api/workspaces/:ws/bots/:bot/config/draft',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Discard the draft',
        params: botParams,
        response: { 204: z.null(), ...commonErrors },
      },
    },
    async (request, reply) => {
      await discardBotConfigDraft(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        botId: request.params.bot,
      });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/workspaces/:ws/bots/:bot/config/publish',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Publish the draft as the next version',
        description:
          'The previous version is archived. Running instances switch within a second. 409 without a draft.',
        params: botParams,
        body: z.strictObject({ note }).nullish(),
        response: { 200: versionSchema, ...commonErrors },
      },
    },
    async (request) =>
      publishBotConfig(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        botId: request.params.bot,
        note: request.body?.note,
      }),
  );

  app.get(
    '/api/workspaces/:ws/bots/:bot/config/versions',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'Published and archived versions, newest first',
        params: botParams,
        querystring: pageQuery,
        response: { 200: pageOf(versionSchema), ...commonErrors },
      },
    },
    async (request) =>
      listBotConfigVersions(ctx, {
        workspaceId: request.params.ws,
        botId: request.params.bot,
        ...request.query,
      }),
  );

  app.get(
    '/api/workspaces/:ws/bots/:bot/config/versions/:version',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'One version',
        params: botParams.extend({ version: z.coerce.number().int().min(1).max(1_000_000_000) }),
        response: { 200: versionSchema, ...commonErrors },
      },
    },
    async (request) =>
      getBotConfigVersion(ctx, {
        workspaceId: request.params.ws,
        botId: request.params.bot,
        version: request.params.version,
      }),
  );

  app.post(
    '/api/workspaces/:ws/bots/:bot/config/rollback',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Publish a copy of an older version as a new version',
        params: botParams,
        body: z.strictObject({ version: z.number().int().min(1).max(1_000_000_000), note }),
        response: { 200: versionSchema, ...commonErrors },
      },
    },
    async (request) =>
      rollbackBotConfig(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        botId: request.params.bot,
        version: request.body.version,
        note: request.body.note,
      }),
  );

  // ─── Playground ────────────────────────────────────────────────────────────

  const responder = createDefaultResponder(ctx);
  app.post(
    '/api/workspaces/:ws/bots/:bot/playground',
    {
      config: { access: { role: 'operator' } },
      schema: {
        tags,
        security,
        summary: "Talk to the bot's draft config without a channel",
        description:
          'Runs the responder customers get on `config` (unsaved editor state), else the draft, else the published version. Nothing is stored: escalations and language changes come back as notes.',
        params: botParams,
        body: playgroundBodySchema,
        response: { 200: playgroundResultSchema, ...commonErrors },
      },
    },
    async (request) =>
      runPlayground(ctx, responder, {
        workspaceId: request.params.ws,
        botId: request.params.bot,
        body: request.body,
      }),
  );
}
