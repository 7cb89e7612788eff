import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { createdAt, idColumn, updatedAt } from '../../platform/db/columns.ts';
import { workspaces } from '../workspaces/schema.ts';

/**
 * A workspace's own OpenAI-compatible providers. The chain the assistant uses is the enabled
 * ones by ascending priority, then the platform default (unless the workspace opted out).
 * The API key is sealed with `encryptSecret` (AES-256-GCM); only its last four characters
 * are kept in clear, for the panel.
 */
export const llmProviders = pgTable(
  'llm_providers',
  {
    id: idColumn(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    baseUrl: text('base_url').notNull(),
    /** Null for endpoints without authentication (a local Ollama, llama.cpp server). */
    apiKeyEncrypted: text('api_key_encrypted'),
    apiKeyLast4: text('api_key_last4'),
    chatModel: text('chat_model'),
    embeddingsModel: text('embeddings_model'),
    transcriptionModel: text('transcription_model'),
    visionModel: text('vision_model'),
    /** Lower first. */
    priority: integer('priority').notNull().default(0),
    enabled: boolean('enabled').notNull().default(true),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('llm_providers_name_key').on(t.workspaceId, t.name),
    index('llm_providers_chain_idx').on(t.workspaceId, t.priority),
  ],
);

export const LLM_PURPOSES = ['chat', 'embeddings', 'transcription', 'vision'] as const;
export type LlmPurpose = (typeof LLM_PURPOSES)[number];

/**
 * One row per HTTP attempt to a provider (a retried or fallen-over call leaves one row per
 * attempt, `ok` false for the failed ones). Written in batches off the reply path. Bot and
 * conversation ids carry no foreign key on purpose: a row must never fail to insert because
 * the bot was deleted between the call and the batch write.
 */
export const llmUsage = pgTable(
  'llm_usage',
  {
    id: idColumn(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    botId: uuid('bot_id'),
    conversationId: uuid('conversation_id'),
    provider: text('provider').notNull(),
    model: text('model').notNull(),
    purpose: text('purpose').$type<LlmPurpose>().notNull(),
    promptTokens: integer('prompt_tokens').notNull().default(0),
    completionTokens: integer('completion_tokens').notNull().default(0),
    latencyMs: integer('latency_ms').notNull(),
    ok: boolean('ok').notNull(),
    error: text('error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('llm_usage_workspace_idx').on(t.workspaceId, t.createdAt),
    index('llm_usage_conversation_idx').on(t.conversationId).where(sql`${t.conversationId} is not null`),
    check('llm_usage_purpose_check', sql`${t.purpose} in ('chat','embeddings','transcription','vision')`),
  ],
);
