import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { eq } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTelegram } from '../../testkit/src/fake-telegram.ts';
import { startTestApp, type TestApp } from '../../testkit/src/start-app.ts';
import { seedTelegramBot } from '../../testkit/src/telegram-bot.ts';
import { createTestWorkspace, signUp } from '../../testkit/src/users.ts';
import { inboxUpdates } from './schema.ts';

/**
 * Redis stopped under webhook load. The test runs its own redis-server on a free port — never
 * the shared one, which other suites use — and needs PostgreSQL (TEST_DATABASE_URL): the
 * scaled shape, where the queue lives in Redis and the inbox in the database.
 */
const redisServer = findRedisServer();
const databaseUrl = process.env.TEST_DATABASE_URL;

/** Telegram waits at most ~60 s; the bound for an answer while Redis is down. */
const MAX_ACK_MS = 1000;

describe.runIf(redisServer && databaseUrl)('webhooks while Redis is down', () => {
  let fake: FakeTelegram;
  let redis: ChildProcess | undefined;
  let port: number;
  let app: TestApp;

  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(redisServer ?? 'redis-server', port);
    fake = await FakeTelegram.start();
    app = await startTestApp({
      env: { TELEGRAM_API_ROOT: fake.url, REDIS_URL: `redis://127.0.0.1:${port}` },
    });
  }, 60_000);
  afterAll(async () => {
    redis?.kill('SIGKILL');
    await fake?.close();
    if (!app) return;
    // Shutting down after the outage can wait forever for queue jobs that were running when
    // Redis died (BullMQ's Worker.close lets active jobs finish); bounded here so the suite
    // ends, and the test schema is dropped in any case.
    const closed = await Promise.race([
      app.close().then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 10_000).unref()),
    ]);
    if (!closed && app.shared.pgSchema) await dropSchema(app.shared.pgSchema);
  }, 60_000);

  it('answers every webhook within a second and stores every update', async () => {
    const owner = await signUp(app);
    const workspaceId = await createTestWorkspace(app, owner);
    const { channel, secret } = await seedTelegramBot(app.ctx, fake, {
      workspaceId,
      config: { language: 'en' },
    });
    let nextUpdateId = 0;
    const post = async () => {
      nextUpdateId += 1;
      const updateId = nextUpdateId;
      const started = performance.now();
      const response = await app.api(`/hooks/telegram/${channel.id}`, {
        method: 'POST',
        headers: { 'x-telegram-bot-api-secret-token': secret },
        json: {
          update_id: updateId,
          message: {
            message_id: updateId,
            date: Math.floor(Date.now() / 1000),
            chat: { id: 7000 + updateId, type: 'private' },
            from: { id: 7000 + updateId, is_bot: false, first_name: 'Ann' },
            text: '/help',
          },
        },
      });
      return { status: response.status, ms: performance.now() - started };
    };
    /** Waves of concurrent requests, as Telegram sends them (up to max_connections at once). */
    const load = async (waves: number, concurrent: number) => {
      const results: Array<{ status: number; ms: number }> = [];
      for (let wave = 0; wave < waves; wave++) {
        results.push(...(await Promise.all(Array.from({ length: concurrent }, post))));
      }
      return results;
    };

    const before = await load(2, 10);
    expect(before.map((result) => result.status)).toEqual(before.map(() => 200));

    redis?.kill('SIGKILL');
    if (redis) await once(redis, 'exit');
    const during = await load(8, 10);
    // Sequential webhooks too: each used to wait for the previous one's queue signal.
    for (let n = 0; n < 10; n++) during.push(await post());
    expect(during.map((result) => result.status)).toEqual(during.map(() => 200));
    const slow = during.filter((result) => result.ms > MAX_ACK_MS);
    expect(slow, `slowest ${Math.max(...during.map((result) => Math.round(result.ms)))} ms`).toEqual([]);

    const stored = await app.ctx.db
      .select({ updateId: inboxUpdates.updateId })
      .from(inboxUpdates)
      .where(eq(inboxUpdates.channelId, channel.id));
    expect(stored.map((row) => row.updateId).sort((a, b) => a - b)).toEqual(
      Array.from({ length: nextUpdateId }, (_, n) => n + 1),
    );

    // /health answers (its checks time out after 2 s instead of hanging): the instance still
    // serves, so it stays in the load balancer, and says what is down.
    const health = await app.api('/health');
    expect(health.status).toBe(200);
    expect(health.json.status).toBe('degraded');
    expect(health.json.checks).toMatchObject({ redis: { ok: false }, db: { ok: true } });
  }, 120_000);
});

async function dropSchema(schema: string) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

function findRedisServer(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

/** A throwaway redis-server: no persistence, loopback only; resolves once it accepts connections. */
async function startRedis(binary: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--protected-mode',
      'yes',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  return new Promise<ChildProcess>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}): ${output}`));
    });
  });
}
