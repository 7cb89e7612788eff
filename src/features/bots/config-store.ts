import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../platform/db/index.ts';
import { notFound } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Ports, Unsubscribe } from '../../platform/ports/types.ts';
import { type BotConfig, readBotConfig } from './bot-config.ts';
import { botConfigVersions, bots } from './schema.ts';

/** The pub/sub channel on which any instance announces that a bot's published config changed. */
export const BOT_CONFIG_CHANNEL = 'bot-config';

/** The config the pipeline answers with, and what it needs to know about the bot around it. */
export interface PublishedBotConfig {
  botId: string;
  workspaceId: string;
  /** A paused bot stores messages but does not answer. */
  status: 'active' | 'paused';
  version: number;
  config: BotConfig;
}

export interface BotConfigDraft {
  config: BotConfig;
  note: string;
  updatedAt: Date;
}

export interface BotConfigStore {
  /**
   * The published config of a bot; from memory after the first call. Throws NOT_FOUND for an
   * unknown bot. A publish on any instance is seen here as soon as its announcement arrives.
   */
  getPublished(botId: string): Promise<PublishedBotConfig>;
  /** The draft, read from the database every time (the playground is not a hot path). */
  getDraft(botId: string): Promise<BotConfigDraft | undefined>;
  /**
   * Forgets the bot here at once and tells every other instance to forget it. Call after the
   * transaction that changed the published config (or the bot's status) has committed.
   */
  announce(botId: string): Promise<void>;
  /** Stops listening for announcements. */
  close(): Promise<void>;
}

export interface BotConfigStoreOptions {
  /**
   * How long an entry is trusted without an announcement. Only a safety net for a lost
   * pub/sub message (Redis restarting between publish and delivery); default 60 s.
   */
  ttlMs?: number;
  /** Entries kept at most; the oldest go first. Default 10,000 bots. */
  maxEntries?: number;
}

const announcementSchema = z.object({ botId: z.uuid() });

interface Entry {
  value: PublishedBotConfig;
  expiresAt: number;
}

/**
 * The in-process cache of published bot configs the message pipeline reads on every update.
 * Invalidation is pushed through the pub/sub port (no polling), so a publish reaches every
 * running instance within the pub/sub latency; the TTL only bounds staleness if a message is
 * lost.
 */
export async function createBotConfigStore(
  deps: { db: Db; ports: Pick<Ports, 'pubsub'>; logger: Logger },
  options: BotConfigStoreOptions = {},
): Promise<BotConfigStore> {
  const ttlMs = options.ttlMs ?? 60_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, Entry>();
  const loading = new Map<string, Promise<PublishedBotConfig>>();
  // Bumped on every invalidation: a load that started before it must not store what it read,
  // since it may have read the config from before the publish.
  const generations = new Map<string, number>();

  const forget = (botId: string) => {
    entries.delete(botId);
    loading.delete(botId);
    generations.set(botId, (generations.get(botId) ?? 0) + 1);
    // The counter only needs to outlive loads in flight; cap its map like the entries.
    if (generations.size > maxEntries) {
      const oldest = generations.keys().next().value;
      if (oldest !== undefined && oldest !== botId) generations.delete(oldest);
    }
  };

  const load = (botId: string): Promise<PublishedBotConfig> => {
    const generation = generations.get(botId) ?? 0;
    const promise = readPublished(deps.db, botId).then(
      (value) => {
        if (loading.get(botId) === promise) loading.delete(botId);
        if ((generations.get(botId) ?? 0) === generation) {
          entries.delete(botId);
          entries.set(botId, { value, expiresAt: Date.now() + ttlMs });
          if (entries.size > maxEntries) {
            const oldest = entries.keys().next().value;
            if (oldest !== undefined) entries.delete(oldest);
          }
        }
        return value;
      },
      (error: unknown) => {
        if (loading.get(botId) === promise) loading.delete(botId);
        throw error;
      },
    );
    loading.set(botId, promise);
    return promise;
  };

  const unsubscribe: Unsubscribe = await deps.ports.pubsub.subscribe(BOT_CONFIG_CHANNEL, (message) => {
    const parsed = announcementSchema.safeParse(message);
    if (parsed.success) forget(parsed.data.botId);
    else deps.logger.warn({ message }, 'ignored a malformed bot-config announcement');
  });

  return {
    async getPublished(botId) {
      const entry = entries.get(botId);
      if (entry && entry.expiresAt > Date.now()) return entry.value;
      // Concurrent misses for one bot share one query.
      return loading.get(botId) ?? load(botId);
    },

    getDraft: (botId) => readDraft(deps.db, botId),

    async announce(botId) {
      forget(botId);
      try {
        await deps.ports.pubsub.publish(BOT_CONFIG_CHANNEL, { botId });
      } catch (error) {
        // The change is committed; other instances pick it up when their entry expires.
        deps.logger.error({ err: error, botId }, 'announcing a bot config change failed');
      }
    },

    async close() {
      await unsubscribe();
      entries.clear();
      loading.clear();
    },
  };
}

async function readPublished(db: Db, botId: string): Promise<PublishedBotConfig> {
  const [row] = await db
    .select({
      workspaceId: bots.workspaceId,
      status: bots.status,
      version: bots.publishedVersion,
      config: botConfigVersions.config,
    })
    .from(bots)
    .innerJoin(
      botConfigVersions,
      and(eq(botConfigVersions.botId, bots.id), eq(botConfigVersions.version, bots.publishedVersion)),
    )
    .where(eq(bots.id, botId));
  if (!row) throw notFound('Bot');
  return {
    botId,
    workspaceId: row.workspaceId,
    status: row.status,
    version: row.version,
    config: readBotConfig(row.config),
  };
}

async function readDraft(db: Db, botId: string): Promise<BotConfigDraft | undefined> {
  const [row] = await db
    .select()
    .from(botConfigVersions)
    .where(and(eq(botConfigVersions.botId, botId), eq(botConfigVersions.status, 'draft')));
  if (!row) return undefined;
  return { config: readBotConfig(row.config), note: row.note, updatedAt: row.updatedAt };
}
