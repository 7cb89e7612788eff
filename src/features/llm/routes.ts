import { z } from 'zod';
import { probeLlmProvider } from '../../assistant/llm/probe.ts';
import { llmRuntime, PLATFORM_PROVIDER_ID, platformProvider } from '../../assistant/llm/runtime.ts';
import type { AppContext } from '../../context.ts';
import { AppError } from '../../platform/errors.ts';
import type { App } from '../../platform/http/create-server.ts';
import { commonErrors, dateTime } from '../../platform/http/schemas.ts';
import { contextOf } from '../access/check-access.ts';
import {
  createLlmProvider,
  deleteLlmProvider,
  getLlmProvider,
  getLlmSettings,
  listLlmProviders,
  toProviderView,
  updateLlmProvider,
  updateLlmSettings,
} from './service.ts';
import { summarizeLlmUsage } from './usage.ts';

const providerSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    baseUrl: z.string(),
    apiKeySet: z.boolean().describe('Whether a key is stored; the key itself is never returned'),
    apiKeyLast4: z.string().nullable().describe('Last four characters of the key, to tell keys apart'),
    chatModel: z.string().nullable(),
    embeddingsModel: z.string().nullable(),
    transcriptionModel: z.string().nullable(),
    visionModel: z.string().nullable(),
    priority: z.number().int().describe('Lower is tried first'),
    enabled: z.boolean(),
    createdAt: dateTime,
    updatedAt: dateTime,
  })
  .meta({ id: 'LlmProvider' });

const capabilitiesSchema = z.object({
  chat: z.boolean(),
  embeddings: z.boolean(),
  transcription: z.boolean(),
  vision: z.boolean(),
});

const modelName = z.string().trim().min(1).max(200);
const providerFields = {
  name: z.string().trim().min(1).max(80),
  baseUrl: z
    .url({ protocol: /^https?$/ })
    .max(500)
    .describe('OpenAI-compatible base URL, e.g. https://api.openai.com/v1 or http://localhost:11434/v1'),
  apiKey: z
    .string()
    .trim()
    .min(1)
    .max(500)
    .nullable()
    .describe('Write-only; null for endpoints without authentication'),
  chatModel: modelName.nullable(),
  embeddingsModel: modelName.nullable(),
  transcriptionModel: modelName.nullable(),
  visionModel: modelName.nullable(),
  priority: z.number().int().min(-1000).max(1000),
  enabled: z.boolean(),
};

const createBody = z
  .strictObject({
    name: providerFields.name,
    baseUrl: providerFields.baseUrl,
    apiKey: providerFields.apiKey.optional(),
    chatModel: providerFields.chatModel.optional(),
    embeddingsModel: providerFields.embeddingsModel.optional(),
    transcriptionModel: providerFields.transcriptionModel.optional(),
    visionModel: providerFields.visionModel.optional(),
    priority: providerFields.priority.optional(),
    enabled: providerFields.enabled.optional(),
  })
  .refine((body) => body.chatModel || body.embeddingsModel || body.transcriptionModel || body.visionModel, {
    message: 'Set at least one model (chat, embeddings, transcription or vision)',
  });

const patchBody = z
  .strictObject({
    name: providerFields.name.optional(),
    baseUrl: providerFields.baseUrl.optional(),
    apiKey: providerFields.apiKey.optional().describe('A new key; null removes it; absent keeps it'),
    chatModel: providerFields.chatModel.optional(),
    embeddingsModel: providerFields.embeddingsModel.optional(),
    transcriptionModel: providerFields.transcriptionModel.optional(),
    visionModel: providerFields.visionModel.optional(),
    priority: providerFields.priority.optional(),
    enabled: providerFields.enabled.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'Nothing to change' });

const chainEntrySchema = z.object({
  id: z.string().describe('Provider id, or `platform` for the platform default'),
  name: z.string(),
  source: z.enum(['workspace', 'platform']),
  capabilities: capabilitiesSchema,
  breaker: z.object({
    state: z.enum(['closed', 'open', 'half_open']),
    consecutiveFailures: z.number().int(),
    retryAt: dateTime.nullable().describe('When an open breaker lets a probe call through'),
  }),
});

const settingsSchema = z
  .object({
    usePlatformDefault: z
      .boolean()
      .describe('Whether the platform default provider ends the chain after the workspace providers'),
    platformDefault: z.object({ configured: z.boolean(), capabilities: capabilitiesSchema }),
    chain: z.array(chainEntrySchema).describe('Providers in the order calls try them, with breaker state'),
    capabilities: capabilitiesSchema,
  })
  .meta({ id: 'LlmSettings' });

const dateOrDateTime = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);
const DAY_MS = 86_400_000;

const usageSchema = z
  .object({
    from: dateTime,
    to: dateTime,
    totals: z.object({
      calls: z.number().int(),
      failed: z.number().int(),
      promptTokens: z.number(),
      completionTokens: z.number(),
    }),
    rows: z.array(
      z.object({
        day: z.string().describe('UTC day, YYYY-MM-DD'),
        provider: z.string(),
        model: z.string(),
        purpose: z.string(),
        calls: z.number().int().describe('HTTP attempts, failed ones included'),
        failed: z.number().int(),
        promptTokens: z.number(),
        completionTokens: z.number(),
        avgLatencyMs: z.number().int(),
      }),
    ),
  })
  .meta({ id: 'LlmUsage' });

const wsParams = z.object({ ws: z.uuid() });
const providerParams = z.object({ ws: z.uuid(), id: z.uuid() });

/** Workspace LLM providers (the fallback chain), settings, test calls and usage. */
export function registerLlmRoutes(app: App, ctx: AppContext) {
  const tags = ['llm'];
  const security = [{ bearer: [] }];

  app.get(
    '/api/workspaces/:ws/llm/providers',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'The workspace LLM providers in chain order (at most 20)',
        params: wsParams,
        response: { 200: z.object({ items: z.array(providerSchema) }), ...commonErrors },
      },
    },
    async (request) => ({
      items: (await listLlmProviders(ctx, { workspaceId: request.params.ws })).map(toProviderView),
    }),
  );

  app.post(
    '/api/workspaces/:ws/llm/providers',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Add an OpenAI-compatible provider to the chain',
        description: 'The API key is stored encrypted and never returned. 409 when the name is taken.',
        params: wsParams,
        body: createBody,
        response: { 201: providerSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const row = await createLlmProvider(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        input: request.body,
      });
      forgetChain(ctx, request.params.ws);
      return reply.code(201).send(toProviderView(row));
    },
  );

  app.get(
    '/api/workspaces/:ws/llm/providers/:id',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'One provider',
        params: providerParams,
        response: { 200: providerSchema, ...commonErrors },
      },
    },
    async (request) =>
      toProviderView(
        await getLlmProvider(ctx, { workspaceId: request.params.ws, providerId: request.params.id }),
      ),
  );

  app.patch(
    '/api/workspaces/:ws/llm/providers/:id',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Change a provider: models, priority, key, enabled',
        description: 'A changed base URL or key starts the provider with a fresh circuit breaker.',
        params: providerParams,
        body: patchBody,
        response: { 200: providerSchema, ...commonErrors },
      },
    },
    async (request) => {
      const row = await updateLlmProvider(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        providerId: request.params.id,
        patch: request.body,
      });
      forgetChain(ctx, request.params.ws);
      return toProviderView(row);
    },
  );

  app.delete(
    '/api/workspaces/:ws/llm/providers/:id',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Remove a provider from the chain',
        params: providerParams,
        response: { 204: z.null(), ...commonErrors },
      },
    },
    async (request, reply) => {
      await deleteLlmProvider(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        providerId: request.params.id,
      });
      forgetChain(ctx, request.params.ws);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/workspaces/:ws/llm/providers/:id/test',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Make one tiny real call to the provider and report how it went',
        description:
          'Chats with the chat model (else embeds with the embeddings model, chats with the vision model, or lists models). No retries, no fallback; the circuit breaker is not touched. The call is counted in usage.',
        params: providerParams,
        response: {
          200: z.object({
            ok: z.boolean(),
            capability: z.enum(['chat', 'embeddings', 'transcription', 'vision', 'models']),
            model: z.string().nullable(),
            latencyMs: z.number().int(),
            error: z.string().nullable(),
          }),
          ...commonErrors,
        },
      },
    },
    async (request) =>
      probeLlmProvider(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        providerId: request.params.id,
      }),
  );

  app.get(
    '/api/workspaces/:ws/llm/settings',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'The LLM chain as calls see it: providers in order, capabilities, breaker states',
        params: wsParams,
        response: { 200: settingsSchema, ...commonErrors },
      },
    },
    async (request) => describeLlmSettings(ctx, request.params.ws),
  );

  app.put(
    '/api/workspaces/:ws/llm/settings',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Opt in or out of the platform default provider',
        params: wsParams,
        body: z.strictObject({ usePlatformDefault: z.boolean() }),
        response: { 200: settingsSchema, ...commonErrors },
      },
    },
    async (request) => {
      await updateLlmSettings(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        settings: request.body,
      });
      forgetChain(ctx, request.params.ws);
      return describeLlmSettings(ctx, request.params.ws);
    },
  );

  app.get(
    '/api/workspaces/:ws/llm/usage',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'LLM usage by UTC day, provider, model and purpose',
        description:
          '`from` is inclusive, `to` exclusive; a plain date as `to` includes that whole day. Defaults: the last 30 days. At most 366 days.',
        params: wsParams,
        querystring: z.object({
          from: dateOrDateTime.optional(),
          to: dateOrDateTime.optional(),
          botId: z.uuid().optional().describe('Only the calls made for this bot'),
        }),
        response: { 200: usageSchema, ...commonErrors },
      },
    },
    async (request) => {
      const { from: rawFrom, to: rawTo, botId } = request.query;
      const to = rawTo ? new Date(rawTo.length === 10 ? Date.parse(rawTo) + DAY_MS : rawTo) : new Date();
      const from = rawFrom ? new Date(rawFrom) : new Date(to.getTime() - 30 * DAY_MS);
      if (from >= to) throw new AppError('BAD_REQUEST', { message: '`from` must be before `to`' });
      if (to.getTime() - from.getTime() > 366 * DAY_MS) {
        throw new AppError('BAD_REQUEST', { message: 'The range may span at most 366 days' });
      }
      return summarizeLlmUsage(ctx, { workspaceId: request.params.ws, from, to, botId });
    },
  );
}

/**
 * Other instances learn of a change from the service's pub/sub announcement; this one forgets
 * at once, so the caller's next message already uses the new chain.
 */
function forgetChain(ctx: AppContext, workspaceId: string) {
  llmRuntime(ctx).forget(workspaceId);
}

async function describeLlmSettings(ctx: AppContext, workspaceId: string) {
  const settings = await getLlmSettings(ctx, { workspaceId });
  const runtime = llmRuntime(ctx);
  await runtime.ready;
  const chain = await runtime.chainOf(workspaceId);
  const platform = platformProvider(ctx.config);
  const capabilitiesOf = (models: Partial<Record<string, string>>) => ({
    chat: Boolean(models.chat),
    embeddings: Boolean(models.embeddings),
    transcription: Boolean(models.transcription),
    vision: Boolean(models.vision),
  });
  const entries = chain.map((provider) => {
    const breaker = runtime.breakerOf(provider);
    const retryAt = breaker.retryAt;
    return {
      id: provider.id,
      name: provider.name,
      source: provider.id === PLATFORM_PROVIDER_ID ? ('platform' as const) : ('workspace' as const),
      capabilities: capabilitiesOf(provider.models),
      breaker: {
        state: breaker.state,
        consecutiveFailures: breaker.consecutiveFailures,
        retryAt: retryAt === undefined ? null : new Date(retryAt),
      },
    };
  });
  const any = (key: 'chat' | 'embeddings' | 'transcription' | 'vision') =>
    entries.some((entry) => entry.capabilities[key]);
  return {
    usePlatformDefault: settings.usePlatformDefault,
    platformDefault: {
      configured: platform !== undefined,
      capabilities: capabilitiesOf(platform?.models ?? {}),
    },
    chain: entries,
    capabilities: {
      chat: any('chat'),
      embeddings: any('embeddings'),
      transcription: any('transcription'),
      vision: any('vision'),
    },
  };
}
