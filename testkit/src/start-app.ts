import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { vector } from '@electric-sql/pglite/vector';
import pg from 'pg';
import { buildApp } from '../../src/app.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import type { AppContext } from '../../src/context.ts';
import { closeContext, createContext } from '../../src/main.ts';
import { openDatabase } from '../../src/platform/db/index.ts';
import { migrate } from '../../src/platform/db/migrate.ts';
import type { App } from '../../src/platform/http/create-server.ts';
import { createLogger } from '../../src/platform/logger.ts';

export interface TestApp {
  /** What a second instance needs to share this one's state. */
  shared: { id: string; pgSchema: string | undefined; secret: string };
  /** Base URL of the listening server, e.g. http://127.0.0.1:41234 */
  url: string;
  app: App;
  ctx: AppContext;
  config: Config;
  /** fetch against the app: `api('/api/auth/login', { method: 'POST', json: {...} })`. */
  api: (pathname: string, init?: ApiInit) => Promise<ApiResponse>;
  close: () => Promise<void>;
}

export interface ApiInit {
  method?: string;
  json?: unknown;
  body?: string;
  token?: string;
  headers?: Record<string, string>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON body, or the text when not JSON. */
  body: unknown;
  /** `body` narrowed to an object for field access in tests. */
  json: Record<string, unknown>;
}

export interface StartTestAppOptions {
  /** Extra environment (on top of the test defaults). */
  env?: Record<string, string>;
  /**
   * Start a second instance of the scaled shape: the same PostgreSQL schema, Redis prefix and
   * secret as `shareWith` (needs TEST_DATABASE_URL and TEST_REDIS_URL). Closing it leaves the
   * shared state to the first app.
   */
  shareWith?: TestApp;
  /** Run the queue workers in this app (default true); false is the `web` role: ingest only. */
  work?: boolean;
}

let pgliteTemplate: Promise<Blob> | undefined;

/**
 * A migrated empty PGlite, dumped once per test process: each app then starts from a copy
 * instead of replaying every migration (seconds saved per test file).
 */
function migratedPgliteTemplate(): Promise<Blob> {
  pgliteTemplate ??= (async () => {
    const client = await PGlite.create({ extensions: { vector, pg_trgm } });
    const { drizzle } = await import('drizzle-orm/pglite');
    const { schema } = await import('../../src/schema.ts');
    await migrate(drizzle({ client, schema }));
    const dump = await client.dumpDataDir('none');
    await client.close();
    return dump;
  })();
  return pgliteTemplate;
}

/**
 * Starts the whole app on a random loopback port against a fresh database: in-memory PGlite,
 * or a fresh schema of the PostgreSQL at TEST_DATABASE_URL; Redis at TEST_REDIS_URL when set
 * (with a key prefix of its own). `close()` drops what it created.
 */
export async function startTestApp(options: StartTestAppOptions = {}): Promise<TestApp> {
  if (options.shareWith && !(process.env.TEST_DATABASE_URL && process.env.TEST_REDIS_URL)) {
    throw new Error('shareWith needs TEST_DATABASE_URL and TEST_REDIS_URL');
  }
  const id = options.shareWith?.shared.id ?? randomBytes(6).toString('hex');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'switchboard-test-'));
  const databaseUrl = process.env.TEST_DATABASE_URL;
  const redisUrl = process.env.TEST_REDIS_URL;
  const pgSchema = databaseUrl ? `t_${id}` : undefined;
  const secret = options.shareWith?.shared.secret ?? `test-secret-${id}-${'x'.repeat(32)}`;
  const config = loadConfig(
    {
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_SECRET: secret,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
      ...options.env,
    },
    dataDir,
  );
  const ctx = await createContext(config, {
    logger: createLogger({ level: config.LOG_LEVEL, name: `test-${id}` }),
    database: databaseUrl
      ? { pgSchema, poolSize: 5 }
      : // No background maintenance: tests and benches stay deterministic (they analyze
        // what they bulk-load themselves); platform/db/maintenance.test.ts covers it.
        { pgliteDir: undefined, pgliteLoadDataDir: await migratedPgliteTemplate(), maintenance: undefined },
    redisPrefix: `test-${id}`,
    defaultMetrics: false,
  });
  const app = await buildApp(ctx, { work: options.work ?? true });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;

  const api = async (pathname: string, init: ApiInit = {}): Promise<ApiResponse> => {
    const headers: Record<string, string> = { ...init.headers };
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    let body = init.body;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    const response = await fetch(`${url}${pathname}`, { method: init.method ?? 'GET', headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    const json =
      typeof parsed === 'object' && parsed !== null ? Object.fromEntries(Object.entries(parsed)) : {};
    return { status: response.status, headers: response.headers, body: parsed, json };
  };

  const owner = options.shareWith === undefined;
  return {
    shared: { id, pgSchema, secret },
    url,
    app,
    ctx,
    config,
    api,
    close: async () => {
      await app.close();
      await closeContext(ctx);
      if (owner && databaseUrl && pgSchema) await dropSchema(databaseUrl, pgSchema);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function dropSchema(url: string, schema: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

/** Opens a database like the app would, for tests of the database layer itself. */
export { openDatabase };
