import { and, asc, count, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { RequestContext } from '../../context.ts';
import { decryptSecret, encryptSecret, type Keys } from '../../platform/crypto.ts';
import type { DbOrTx } from '../../platform/db/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import type { Ports } from '../../platform/ports/types.ts';
import { recordAudit } from '../audit/service.ts';
import { workspaces } from '../workspaces/schema.ts';
import { llmProviders } from './schema.ts';

export type LlmProviderRow = typeof llmProviders.$inferSelect;

/** The pub/sub channel on which any instance announces that a workspace's LLM chain changed. */
export const LLM_PROVIDERS_CHANNEL = 'llm-providers';

/** The name usage rows and metrics give the platform default provider (reserved). */
export const PLATFORM_PROVIDER_NAME = 'platform';

/** A workspace may configure this many providers at most (a chain, not a catalogue). */
export const MAX_PROVIDERS_PER_WORKSPACE = 20;

/** A provider as the API shows it: the key is write-only, only whether it is set and its tail. */
export interface LlmProviderView {
  id: string;
  name: string;
  baseUrl: string;
  apiKeySet: boolean;
  apiKeyLast4: string | null;
  chatModel: string | null;
  embeddingsModel: string | null;
  transcriptionModel: string | null;
  visionModel: string | null;
  priority: number;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export function toProviderView(row: LlmProviderRow): LlmProviderView {
  return {
    id: row.id,
    name: row.name,
    baseUrl: row.baseUrl,
    apiKeySet: row.apiKeyEncrypted !== null,
    apiKeyLast4: row.apiKeyLast4,
    chatModel: row.chatModel,
    embeddingsModel: row.embeddingsModel,
    transcriptionModel: row.transcriptionModel,
    visionModel: row.visionModel,
    priority: row.priority,
    enabled: row.enabled,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** What the audit log keeps of a provider: never the key, not even sealed. */
function auditView(row: LlmProviderRow) {
  const { createdAt: _c, updatedAt: _u, ...view } = toProviderView(row);
  return view;
}

export interface LlmProviderInput {
  name: string;
  baseUrl: string;
  /** Null or absent: no key (local endpoints). */
  apiKey?: string | null | undefined;
  chatModel?: string | null | undefined;
  embeddingsModel?: string | null | undefined;
  transcriptionModel?: string | null | undefined;
  visionModel?: string | null | undefined;
  priority?: number | undefined;
  enabled?: boolean | undefined;
}

// ─── Providers ───────────────────────────────────────────────────────────────

/** The workspace's providers in chain order (priority, then oldest first). */
export async function listLlmProviders(ctx: { db: DbOrTx }, options: { workspaceId: string }) {
  return ctx.db
    .select()
    .from(llmProviders)
    .where(eq(llmProviders.workspaceId, options.workspaceId))
    .orderBy(asc(llmProviders.priority), asc(llmProviders.createdAt), asc(llmProviders.id));
}

export async function getLlmProvider(
  ctx: { db: DbOrTx },
  options: { workspaceId: string; providerId: string },
): Promise<LlmProviderRow> {
  const [row] = await ctx.db
    .select()
    .from(llmProviders)
    .where(and(eq(llmProviders.id, options.providerId), eq(llmProviders.workspaceId, options.workspaceId)));
  if (!row) throw notFound('LLM provider');
  return row;
}

export async function createLlmProvider(
  ctx: RequestContext,
  options: { workspaceId: string; input: LlmProviderInput },
): Promise<LlmProviderRow> {
  const { input } = options;
  checkName(input.name);
  const row = await ctx.db.transaction(async (tx) => {
    // Lock the workspace row: two concurrent creates cannot both slip under the cap.
    await tx.execute(
      sql`select 1 from ${workspaces} where ${workspaces.id} = ${options.workspaceId} for update`,
    );
    const [existing] = await tx
      .select({ total: count() })
      .from(llmProviders)
      .where(eq(llmProviders.workspaceId, options.workspaceId));
    if ((existing?.total ?? 0) >= MAX_PROVIDERS_PER_WORKSPACE) {
      throw new AppError('CONFLICT', {
        message: `A workspace may have at most ${MAX_PROVIDERS_PER_WORKSPACE} LLM providers`,
      });
    }
    const [created] = await tx
      .insert(llmProviders)
      .values({
        workspaceId: options.workspaceId,
        name: input.name,
        baseUrl: normalizeBaseUrl(input.baseUrl),
        ...sealKey(ctx.keys, input.apiKey ?? null),
        chatModel: input.chatModel ?? null,
        embeddingsModel: input.embeddingsModel ?? null,
        transcriptionModel: input.transcriptionModel ?? null,
        visionModel: input.visionModel ?? null,
        priority: input.priority ?? 0,
        enabled: input.enabled ?? true,
      })
      .returning();
    if (!created) throw new AppError('INTERNAL', { message: 'provider insert returned nothing' });
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'llm_provider.create',
      targetType: 'llm_provider',
      targetId: created.id,
      after: auditView(created),
    });
    return created;
  });
  await announceLlmProvidersChanged(ctx, options.workspaceId);
  return row;
}

export async function updateLlmProvider(
  ctx: RequestContext,
  options: { workspaceId: string; providerId: string; patch: Partial<LlmProviderInput> },
): Promise<LlmProviderRow> {
  const { patch } = options;
  if (patch.name !== undefined) checkName(patch.name);
  const row = await ctx.db.transaction(async (tx) => {
    const before = await getLlmProvider({ db: tx }, options);
    const [updated] = await tx
      .update(llmProviders)
      .set({
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.baseUrl !== undefined ? { baseUrl: normalizeBaseUrl(patch.baseUrl) } : {}),
        ...(patch.apiKey !== undefined ? sealKey(ctx.keys, patch.apiKey) : {}),
        ...(patch.chatModel !== undefined ? { chatModel: patch.chatModel } : {}),
        ...(patch.embeddingsModel !== undefined ? { embeddingsModel: patch.embeddingsModel } : {}),
        ...(patch.transcriptionModel !== undefined ? { transcriptionModel: patch.transcriptionModel } : {}),
        ...(patch.visionModel !== undefined ? { visionModel: patch.visionModel } : {}),
        ...(patch.priority !== undefined ? { priority: patch.priority } : {}),
        ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
        updatedAt: new Date(),
      })
      .where(eq(llmProviders.id, before.id))
      .returning();
    if (!updated) throw notFound('LLM provider');
    const keyChanged = patch.apiKey !== undefined;
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'llm_provider.update',
      targetType: 'llm_provider',
      targetId: updated.id,
      // A new key shows as `apiKeyChanged`, never as its value.
      before: { ...auditView(before), ...(keyChanged ? { apiKeyChanged: false } : {}) },
      after: { ...auditView(updated), ...(keyChanged ? { apiKeyChanged: true } : {}) },
    });
    return updated;
  });
  await announceLlmProvidersChanged(ctx, options.workspaceId);
  return row;
}

export async function deleteLlmProvider(
  ctx: RequestContext,
  options: { workspaceId: string; providerId: string },
): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const before = await getLlmProvider({ db: tx }, options);
    await tx.delete(llmProviders).where(eq(llmProviders.id, before.id));
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'llm_provider.delete',
      targetType: 'llm_provider',
      targetId: before.id,
      before: auditView(before),
    });
  });
  await announceLlmProvidersChanged(ctx, options.workspaceId);
}

/** The decrypted key of a provider row (null when it has none). */
export function providerApiKey(keys: Keys, row: Pick<LlmProviderRow, 'apiKeyEncrypted'>): string | null {
  return row.apiKeyEncrypted === null ? null : decryptSecret(keys.encryption, row.apiKeyEncrypted);
}

/** Tells every instance (this one included) to reload the workspace's chain. */
export async function announceLlmProvidersChanged(ctx: { ports: Ports }, workspaceId: string): Promise<void> {
  await ctx.ports.pubsub.publish(LLM_PROVIDERS_CHANNEL, { workspaceId });
}

function sealKey(keys: Keys, apiKey: string | null) {
  if (apiKey === null) return { apiKeyEncrypted: null, apiKeyLast4: null };
  return { apiKeyEncrypted: encryptSecret(keys.encryption, apiKey), apiKeyLast4: apiKey.slice(-4) };
}

function checkName(name: string) {
  if (name.trim().toLowerCase() === PLATFORM_PROVIDER_NAME) {
    throw new AppError('BAD_REQUEST', {
      message: `"${PLATFORM_PROVIDER_NAME}" is reserved for the platform default provider`,
    });
  }
}

/** `https://host/v1/` and `https://host/v1` are the same endpoint: store it without the slash. */
function normalizeBaseUrl(url: string): string {
  return url.replace(/\/+$/, '');
}

// ─── Settings ────────────────────────────────────────────────────────────────

const llmSettingsSchema = z.object({ usePlatformDefault: z.boolean().default(true) });
export type LlmSettings = z.infer<typeof llmSettingsSchema>;

/** The workspace's LLM settings (kept under `settings.llm` of the workspace). */
export async function getLlmSettings(
  ctx: { db: DbOrTx },
  options: { workspaceId: string },
): Promise<LlmSettings> {
  const [row] = await ctx.db
    .select({ settings: workspaces.settings })
    .from(workspaces)
    .where(eq(workspaces.id, options.workspaceId));
  if (!row) throw notFound('Workspace');
  return readLlmSettings(row.settings);
}

/** Tolerant read: a malformed stored value falls back to the defaults rather than failing replies. */
export function readLlmSettings(settings: Record<string, unknown>): LlmSettings {
  const parsed = llmSettingsSchema.safeParse(settings.llm ?? {});
  return parsed.success ? parsed.data : llmSettingsSchema.parse({});
}

export async function updateLlmSettings(
  ctx: RequestContext,
  options: { workspaceId: string; settings: LlmSettings },
): Promise<LlmSettings> {
  const result = await ctx.db.transaction(async (tx) => {
    const before = await getLlmSettings({ db: tx }, options);
    // jsonb_set keeps the other features' settings untouched even under concurrent writes.
    await tx
      .update(workspaces)
      .set({
        settings: sql`jsonb_set(${workspaces.settings}, '{llm}', ${JSON.stringify(options.settings)}::jsonb, true)`,
        updatedAt: new Date(),
      })
      .where(eq(workspaces.id, options.workspaceId));
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'llm_settings.update',
      targetType: 'workspace',
      targetId: options.workspaceId,
      before,
      after: options.settings,
    });
    return options.settings;
  });
  await announceLlmProvidersChanged(ctx, options.workspaceId);
  return result;
}
