import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildApp } from './app.ts';
import { closeLlm } from './assistant/llm/index.ts';
import { closeOcr } from './assistant/ocr.ts';
import type { Config } from './config.ts';
import type { AppContext } from './context.ts';
import { createTracker, writeAnalyticsRows } from './features/analytics/tracker.ts';
import { createBotConfigStore } from './features/bots/config-store.ts';
import { startTelegramPoller } from './features/channels/telegram-poller.ts';
import { createMailer } from './features/mail/service.ts';
import { createEventBus } from './features/realtime/event-bus.ts';
import { ensureFirstOwner } from './features/system/service.ts';
import { startPipeline } from './pipeline/index.ts';
import { deriveKeys, resolveSecret } from './platform/crypto.ts';
import { type DatabaseOptions, openDatabase } from './platform/db/index.ts';
import { migrate } from './platform/db/migrate.ts';
import { createHealth } from './platform/health.ts';
import { createLogger, type Logger } from './platform/logger.ts';
import { createMetrics } from './platform/metrics.ts';
import { createPorts } from './platform/ports/index.ts';

export const VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

export interface ContextOptions {
  logger?: Logger;
  /** Overrides of how the database is opened (tests: in-memory PGlite or a fresh schema). */
  database?: Partial<DatabaseOptions>;
  /** Prefix of Redis keys (tests: one per app). */
  redisPrefix?: string;
  defaultMetrics?: boolean;
}

/**
 * The composition root: config → platform (db, ports, keys, logging, metrics) → context.
 * Migrations are applied here, so `npm start` on an empty data dir just works.
 */
export async function createContext(config: Config, options: ContextOptions = {}): Promise<AppContext> {
  const logger = options.logger ?? createLogger({ level: config.LOG_LEVEL });
  const database = await openDatabase({
    url: config.DATABASE_URL,
    pgliteDir: config.DATABASE_URL ? undefined : path.join(config.dataDir, 'pglite'),
    poolSize: config.DATABASE_POOL_SIZE,
    // PostgreSQL's autovacuum, done by the app for the embedded database, which has none.
    maintenance: config.DATABASE_URL ? undefined : { logger },
    ...options.database,
  });
  try {
    const applied = await migrate(database.db);
    if (applied.length > 0) logger.info({ applied }, 'database migrated');
    const ports = await createPorts({ redisUrl: config.REDIS_URL, prefix: options.redisPrefix, logger });
    const botConfigs = await createBotConfigStore({ db: database.db, ports, logger });
    const keys = deriveKeys(resolveSecret(config.SWITCHBOARD_SECRET, config.dataDir));
    const metrics = createMetrics({ defaultMetrics: options.defaultMetrics ?? true });
    const health = createHealth();
    health.register('db', async () => {
      await database.ping();
      return { kind: database.kind };
    });
    if (ports.kind === 'redis') {
      // Not critical: with Redis down, webhooks are still stored and answered (the inbox is in
      // the database), so the instance stays in the load balancer, reported as degraded. A 503
      // on every instance at once would refuse every webhook instead.
      health.register(
        'redis',
        async () => {
          await ports.ping();
          return undefined;
        },
        { critical: false },
      );
    }
    const analytics = createTracker({ write: writeAnalyticsRows(database.db), logger, metrics });
    const events = await createEventBus({ ports, logger });
    const mailer = createMailer({
      db: database.db,
      logger,
      smtpUrl: config.SMTP_URL,
      from: config.MAIL_FROM,
    });
    return {
      config,
      database,
      db: database.db,
      keys,
      ports,
      logger,
      metrics,
      mailer,
      health,
      botConfigs,
      analytics,
      events,
      version: VERSION,
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}

export async function closeContext(ctx: AppContext): Promise<void> {
  await ctx.botConfigs.close();
  await ctx.events.close();
  // Workers first (their last events), then the events, then the database under them.
  await ctx.ports.close();
  await closeLlm(ctx);
  await closeOcr(ctx);
  await ctx.analytics.close();
  await ctx.database.close();
}

export interface ServerOptions {
  role?: 'web' | 'worker' | 'all';
}

/** Starts the server and wires SIGTERM/SIGINT to a graceful shutdown. */
export async function startServer(config: Config, options: ServerOptions = {}) {
  const ctx = await createContext(config);
  const role = options.role ?? 'all';
  const first = await ensureFirstOwner(ctx);
  if (first.kind === 'created')
    ctx.logger.info({ email: first.email }, 'first owner created from SWITCHBOARD_ADMIN_EMAIL');
  if (first.kind === 'setup') {
    ctx.logger.warn({ setupUrl: first.url }, 'no owner yet: open the setup URL to create one');
    process.stdout.write(`\n  First run: create the owner account at\n  ${first.url}\n\n`);
  }
  const work = role !== 'web';
  const pipeline = await startPipeline(ctx, { work });
  const app = await buildApp(ctx, { work, pipeline });
  if (role !== 'worker') await app.listen({ port: config.PORT, host: config.HOST });
  // Polled updates go through the same ingest as webhooks: the poller confirms a batch to
  // Telegram only after ingest has stored it.
  const poller = work ? await startTelegramPoller(ctx, { onUpdates: pipeline.onTelegramUpdates }) : undefined;
  ctx.logger.info(
    { role, port: config.PORT, database: ctx.database.kind, ports: ctx.ports.kind },
    'switchboard started',
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    ctx.logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      ctx.logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    force.unref();
    try {
      // Stop polling (a batch being stored finishes first), drain in-flight requests, then
      // workers, then the database.
      await poller?.stop();
      await app.close();
      await closeContext(ctx);
      ctx.logger.info('stopped');
      process.exit(0);
    } catch (error) {
      ctx.logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  return { app, ctx, stop };
}
