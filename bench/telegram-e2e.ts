import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { z } from 'zod';
import { StatementCounter, type StatementCounts } from './pg-statement-counter.ts';
import { textUpdateBody } from './telegram-update-body.ts';

/**
 * `npm run bench -- telegram e2e`: the Telegram path end to end, in the shape users run.
 *
 *   fake Bot API      testkit/src/fake-telegram-cli.ts, its own process, no flood control
 *   Switchboard       `node bin/switchboard.js start`, its own process, fresh data dir (PGlite),
 *                     or DATABASE_URL (a throwaway database) + REDIS_URL (its own redis-server)
 *   peer              bench/telegram-echo-bot.ts: grammY webhookCallback echo, its own process
 *   load generator    this process: `concurrency` webhook POSTs in flight, one update per chat
 *
 * Seeding goes through the HTTP API as a user would: the first owner from
 * SWITCHBOARD_ADMIN_EMAIL, a workspace, `bots` bots, each with a Telegram channel connected by
 * token in webhook mode (PUBLIC_URL set), so the server calls setWebhook on the fake; the load
 * generator reads each webhook's URL and secret from the fake's record of that call.
 *
 * Each round measures ours, the echo bot, and the echo bot again (order reversed every other
 * round); the figure is the median of the per-round ratios ours/echo, printed with its min–max
 * and with the noise band of the bench: echo/echo from the same rounds.
 *
 * Database cost per update, PostgreSQL only (PGlite lives inside the server process):
 * transactions and rows from pg_stat_database over ours' timed rounds, and statements counted on
 * the wire by a proxy (bench/pg-statement-counter.ts) in one extra run after a restart through
 * it, so that the proxy's hop stays out of the timed figures.
 */

export interface E2eOptions {
  bots: number;
  updates: number;
  rounds: number;
  concurrency: number;
  backend: 'pglite' | 'pg';
  /** PostgreSQL server to create the throwaway database on (pg backend). */
  databaseUrl: string | undefined;
  /** A Redis to use instead of starting one (pg backend); Switchboard's keys use prefix `sb`. */
  redisUrl: string | undefined;
  /** Whole run, seeding included; children are stopped when it runs out. */
  timeoutSeconds: number;
}

export interface E2eRow {
  metric: string;
  ours: string;
  peer: string;
  ratio: string;
}

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECRET_HEADER = 'x-telegram-bot-api-secret-token';
const ADMIN_EMAIL = 'bench-owner@example.com';
const ADMIN_PASSWORD = 'bench-owner-password';

const say = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.timeOrigin + performance.now();
const fmt = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const spread = (values: number[], digits: number) =>
  `${fmt(median(values), digits)} (${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)})`;

// ─── child processes ──────────────────────────────────────────────────────────

/** Every process this bench starts, stopped on the way out whatever happens. */
class Children {
  private readonly running = new Set<ChildProcess>();

  constructor() {
    // Last resort when the bench exits without stopAll (an uncaught error, process.exit).
    process.on('exit', () => {
      for (const child of this.running) child.kill('SIGKILL');
    });
  }

  start(
    name: string,
    command: string,
    args: string[],
    options: { env: NodeJS.ProcessEnv; cwd: string; logFile: string; stdout: 'pipe' | 'log' },
  ): ChildProcess {
    const log = openSync(options.logFile, 'a');
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      // stdin stays a pipe: the testkit processes exit when it closes, i.e. when we die.
      stdio: ['pipe', options.stdout === 'pipe' ? 'pipe' : log, log],
    });
    closeSync(log);
    this.running.add(child);
    child.once('exit', () => this.running.delete(child));
    child.once('error', (error) => say(`  ${name}: ${error.message}`));
    return child;
  }

  async stop(child: ChildProcess, graceMs = 8000): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Newest first: the server stops before the Redis and the fake it talks to. */
  async stopAll(): Promise<void> {
    for (const child of [...this.running].reverse()) await this.stop(child);
  }
}

/** The first stdout line of a child, parsed as JSON; fails if the child exits first. */
function firstLine(child: ChildProcess, name: string, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`${name}: no output within ${timeoutMs} ms`)), timeoutMs);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (code ${code}) before it was ready`));
    };
    child.once('exit', onExit);
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      try {
        resolve(JSON.parse(buffer.slice(0, newline)));
      } catch (error) {
        reject(error);
      }
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

// ─── HTTP ─────────────────────────────────────────────────────────────────────

interface HttpAnswer {
  status: number;
  body: unknown;
}

/** One HTTP request without a client-side timeout (undici's fetch gives up on headers after 300 s). */
function request(
  url: string,
  options: { method?: string; body?: string; headers?: Record<string, string>; agent?: http.Agent } = {},
): Promise<HttpAnswer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: options.method ?? 'GET',
        agent: options.agent,
        headers: {
          ...(options.body === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(options.body) }),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

async function json<T>(schema: z.ZodType<T>, answer: Promise<HttpAnswer>, what: string): Promise<T> {
  const { status, body } = await answer;
  if (status < 200 || status > 299) throw new Error(`${what}: HTTP ${status} ${JSON.stringify(body)}`);
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new Error(`${what}: unexpected answer ${JSON.stringify(body).slice(0, 300)}`);
  return parsed.data;
}

// ─── the fake Bot API (control side) ──────────────────────────────────────────

const fakeReady = z.object({ url: z.string(), control: z.string() });
const fakeBots = z.object({ bots: z.array(z.object({ id: z.number(), token: z.string() })) });
const sentSchema = z.object({ count: z.number(), at: z.number() });
const webhooksSchema = z.object({
  webhooks: z.array(z.object({ token: z.string(), url: z.string(), secretToken: z.string().optional() })),
});

class FakeControl {
  constructor(readonly control: string) {}

  async addBots(count: number) {
    const { bots } = await json(
      fakeBots,
      request(`${this.control}/bots`, { method: 'POST', body: JSON.stringify({ count }) }),
      'fake: add bots',
    );
    return bots;
  }

  sent() {
    return json(sentSchema, request(`${this.control}/sent`), 'fake: sent count');
  }

  waitSent(count: number, timeoutMs: number) {
    return json(
      sentSchema,
      request(`${this.control}/wait-sent?count=${count}&timeoutMs=${timeoutMs}`),
      `fake: waiting for ${count} sent messages`,
    );
  }

  async webhooks(): Promise<Map<string, { url: string; secretToken: string | undefined }>> {
    const { webhooks } = await json(webhooksSchema, request(`${this.control}/webhooks`), 'fake: webhooks');
    return new Map(webhooks.map((hook) => [hook.token, { url: hook.url, secretToken: hook.secretToken }]));
  }
}

// ─── the load ─────────────────────────────────────────────────────────────────

interface Target {
  url: URL;
  secret: string | undefined;
}

interface Side {
  name: 'ours' | 'echo';
  targets: Target[];
  agent: http.Agent;
}

interface RunResult {
  /** Updates/s from the first POST until the fake recorded the last reply. */
  e2e: number;
  /** Updates/s from the first POST until the last webhook answered 200. */
  ingest: number;
  p50: number;
  p99: number;
  /** Webhook answers other than 200 (each retried, as Telegram would). */
  refused: number;
  seconds: number;
}

let nextUpdateId = 1;
let nextChatId = 10_000_000;

function postUpdate(side: Side, target: Target, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: target.url.hostname,
        port: target.url.port,
        path: target.url.pathname,
        method: 'POST',
        agent: side.agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...(target.secret === undefined ? {} : { [SECRET_HEADER]: target.secret }),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** `n` /help updates, one new chat each, `concurrency` in flight; waits for every reply. */
async function runLoad(fake: FakeControl, side: Side, n: number, concurrency: number): Promise<RunResult> {
  const { count: baseline } = await fake.sent();
  const timeoutMs = Math.max(120_000, n * 200);
  const waiting = fake.waitSent(baseline + n, timeoutMs);
  // Keep the rejection until it is awaited below.
  waiting.catch(() => undefined);
  const latencies = new Float64Array(n);
  let next = 0;
  let refused = 0;
  let lastAck = 0;
  const started = now();
  const worker = async () => {
    while (next < n) {
      const index = next++;
      const target = side.targets[index % side.targets.length];
      if (!target) throw new Error('no targets');
      const body = textUpdateBody(nextUpdateId++, nextChatId++, '/help');
      const sentAt = now();
      // A refused webhook is redelivered by Telegram; so here, after a short pause.
      for (let attempt = 0; ; attempt++) {
        const status = await postUpdate(side, target, body);
        if (status === 200) break;
        refused += 1;
        if (attempt >= 20) throw new Error(`${side.name}: webhook kept answering ${status}`);
        await sleep(100);
      }
      const at = now();
      latencies[index] = at - sentAt;
      if (at > lastAck) lastAck = at;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const { at } = await waiting;
  latencies.sort();
  return {
    e2e: n / ((at - started) / 1000),
    ingest: n / ((lastAck - started) / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    refused,
    seconds: (at - started) / 1000,
  };
}

// ─── PostgreSQL and Redis for the scaled shape ────────────────────────────────

interface Scaled {
  databaseUrl: string;
  databaseName: string;
  redisUrl: string;
  drop: () => Promise<void>;
}

async function createBenchDatabase(adminUrl: string): Promise<{ url: string; name: string }> {
  const name = `bench_${randomBytes(5).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), name };
}

async function dropBenchDatabase(adminUrl: string, name: string): Promise<void> {
  // Only ever the database this run created: the name is ours, never an argument.
  if (!/^bench_[0-9a-f]{10}$/.test(name)) throw new Error(`refusing to drop ${name}`);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

async function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** A redis-server of our own on a free loopback port, no persistence: nothing shared is touched. */
async function startRedis(children: Children, dir: string): Promise<string> {
  const port = await freePort();
  const child = children.start(
    'redis-server',
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { env: { PATH: process.env.PATH }, cwd: dir, logFile: path.join(dir, 'redis.log'), stdout: 'log' },
  );
  const deadline = Date.now() + 10_000;
  while (!(await redisPing(port))) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`redis-server did not start: ${tail(path.join(dir, 'redis.log'))}`);
    await sleep(100);
  }
  return `redis://127.0.0.1:${port}`;
}

interface DatabaseCounters {
  xacts: number;
  written: number;
  read: number;
}

async function readCounters(client: pg.Client, name: string): Promise<DatabaseCounters> {
  const result = await client.query<{ xacts: string; written: string; read: string }>(
    `SELECT xact_commit + xact_rollback AS xacts,
            tup_inserted + tup_updated + tup_deleted AS written,
            tup_returned + tup_fetched AS read
       FROM pg_stat_database WHERE datname = $1`,
    [name],
  );
  const row = result.rows[0];
  return { xacts: Number(row?.xacts ?? 0), written: Number(row?.written ?? 0), read: Number(row?.read ?? 0) };
}

// ─── seeding through the API ──────────────────────────────────────────────────

const sessionSchema = z.object({ accessToken: z.string() });
const idSchema = z.object({ id: z.string() });
const botSchema = z.object({ id: z.string(), config: z.object({ helpText: z.object({ en: z.string() }) }) });

async function seedOurs(
  server: string,
  fake: FakeControl,
  bots: number,
): Promise<{ tokens: string[]; helpText: string }> {
  const api = (pathname: string, method: string, body: unknown, token?: string) =>
    request(`${server}${pathname}`, {
      method,
      body: JSON.stringify(body),
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
  const { accessToken } = await json(
    sessionSchema,
    api('/api/auth/login', 'POST', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
    'login as the first owner',
  );
  const workspace = await json(
    idSchema,
    api('/api/workspaces', 'POST', { name: 'Bench' }, accessToken),
    'create workspace',
  );
  const telegramBots = await fake.addBots(bots);
  let helpText = '';
  let next = 0;
  // A few at a time, like a script an admin might write against the API.
  const worker = async () => {
    while (next < telegramBots.length) {
      const index = next++;
      const telegramBot = telegramBots[index];
      if (!telegramBot) break;
      const bot = await json(
        botSchema,
        api(`/api/workspaces/${workspace.id}/bots`, 'POST', { name: `Bench bot ${index}` }, accessToken),
        'create bot',
      );
      helpText = bot.config.helpText.en;
      await json(
        idSchema,
        api(
          `/api/workspaces/${workspace.id}/bots/${bot.id}/channels`,
          'POST',
          { type: 'telegram', token: telegramBot.token, mode: 'webhook' },
          accessToken,
        ),
        'connect Telegram channel',
      );
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return { tokens: telegramBots.map((bot) => bot.token), helpText };
}

function targetsOf(
  tokens: string[],
  webhooks: Map<string, { url: string; secretToken: string | undefined }>,
  side: string,
): Target[] {
  return tokens.map((token) => {
    const hook = webhooks.get(token);
    if (!hook) throw new Error(`${side}: the fake has no setWebhook for one of its bots`);
    return { url: new URL(hook.url), secret: hook.secretToken };
  });
}

/** `node bin/switchboard.js start`, as `npm start` runs it; resolves once /health answers 200. */
async function startSwitchboard(
  children: Children,
  env: NodeJS.ProcessEnv,
  serverUrl: string,
  serverLog: string,
): Promise<ChildProcess> {
  const started = now();
  // e.g. BENCH_SERVER_NODE_ARGS=--cpu-prof (not allowed in NODE_OPTIONS); the profile lands in the
  // run's folder, kept with BENCH_KEEP_DIR=1.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const server = children.start(
    'switchboard',
    process.execPath,
    [...nodeArgs, path.join(REPO, 'bin/switchboard.js'), 'start'],
    {
      env,
      cwd: path.dirname(serverLog),
      logFile: serverLog,
      stdout: 'log',
    },
  );
  for (;;) {
    if (server.exitCode !== null) throw new Error(`switchboard exited at start:\n${tail(serverLog)}`);
    if (now() - started > 120_000) throw new Error(`switchboard not ready in 120 s:\n${tail(serverLog)}`);
    const ready = await request(`${serverUrl}/health`).catch(() => undefined);
    if (ready?.status === 200) return server;
    await sleep(200);
  }
}

// ─── the run ──────────────────────────────────────────────────────────────────

export async function runTelegramE2e(options: E2eOptions): Promise<E2eRow[]> {
  const children = new Children();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'switchboard-bench-e2e-'));
  let scaled: Scaled | undefined;
  let stats: pg.Client | undefined;
  let proxy: StatementCounter | undefined;
  let aborted = false;
  const deadline = setTimeout(() => {
    aborted = true;
    say(`\ntelegram e2e: over the ${options.timeoutSeconds} s limit; stopping everything`);
    void children.stopAll().finally(() => process.exit(1));
  }, options.timeoutSeconds * 1000);
  const onSignal = (signal: NodeJS.Signals) => {
    say(`\ntelegram e2e: ${signal}; stopping everything`);
    void children.stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const serverLog = path.join(dir, 'switchboard.log');
  const tsx = ['--import', 'tsx'];

  try {
    // The fake Bot API.
    const fakeProcess = children.start(
      'fake Bot API',
      process.execPath,
      [...tsx, path.join(REPO, 'testkit/src/fake-telegram-cli.ts'), '--rate-limits', 'off'],
      { env: { PATH: process.env.PATH }, cwd: REPO, logFile: path.join(dir, 'fake.log'), stdout: 'pipe' },
    );
    const fakeInfo = fakeReady.parse(await firstLine(fakeProcess, 'fake Bot API', 30_000));
    const fake = new FakeControl(fakeInfo.control);

    // PostgreSQL + Redis for the scaled shape.
    if (options.backend === 'pg') {
      const adminUrl = options.databaseUrl;
      if (!adminUrl) throw new Error('--backend pg needs BENCH_DATABASE_URL (or DATABASE_URL)');
      const database = await createBenchDatabase(adminUrl);
      const redisUrl = options.redisUrl ?? (await startRedis(children, dir));
      scaled = {
        databaseUrl: database.url,
        databaseName: database.name,
        redisUrl,
        drop: () => dropBenchDatabase(adminUrl, database.name),
      };
    }

    // Switchboard, exactly as `npm start` runs it (cwd is an empty folder: no stray .env).
    const port = await freePort();
    const serverUrl = `http://127.0.0.1:${port}`;
    const serverEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: serverUrl,
      SWITCHBOARD_DATA_DIR: path.join(dir, 'data'),
      TELEGRAM_API_ROOT: fakeInfo.url,
      SWITCHBOARD_ADMIN_EMAIL: ADMIN_EMAIL,
      SWITCHBOARD_ADMIN_PASSWORD: ADMIN_PASSWORD,
      ...(process.env.BENCH_LOG_LEVEL ? { LOG_LEVEL: process.env.BENCH_LOG_LEVEL } : {}),
      ...(scaled ? { DATABASE_URL: scaled.databaseUrl, REDIS_URL: scaled.redisUrl } : {}),
    };
    const serverStarted = now();
    let server = await startSwitchboard(children, serverEnv, serverUrl, serverLog);
    say(`  switchboard ready in ${fmt((now() - serverStarted) / 1000, 1)} s (log: ${serverLog})`);

    const seedStarted = now();
    const ours = await seedOurs(serverUrl, fake, options.bots);
    say(
      `  seeded through the API: first owner, workspace, ${options.bots} bots with Telegram channels (webhook mode) in ${fmt((now() - seedStarted) / 1000, 1)} s`,
    );

    // The peer, on bots of its own on the same fake.
    const echoBots = await fake.addBots(options.bots);
    const echoProcess = children.start(
      'echo bot',
      process.execPath,
      [...tsx, path.join(REPO, 'bench/telegram-echo-bot.ts')],
      {
        env: {
          PATH: process.env.PATH,
          TELEGRAM_API_ROOT: fakeInfo.url,
          ECHO_TOKENS: echoBots.map((bot) => bot.token).join(','),
          ECHO_REPLY: ours.helpText,
        },
        cwd: REPO,
        logFile: path.join(dir, 'echo.log'),
        stdout: 'pipe',
      },
    );
    await firstLine(echoProcess, 'echo bot', 60_000);

    const webhooks = await fake.webhooks();
    const agentOptions = { keepAlive: true, maxSockets: options.concurrency };
    const oursSide: Side = {
      name: 'ours',
      targets: targetsOf(ours.tokens, webhooks, 'ours'),
      agent: new http.Agent(agentOptions),
    };
    const echoSide: Side = {
      name: 'echo',
      targets: targetsOf(
        echoBots.map((bot) => bot.token),
        webhooks,
        'echo',
      ),
      agent: new http.Agent(agentOptions),
    };
    if (oursSide.targets.some((target) => target.secret === undefined))
      throw new Error('ours: a webhook was set without a secret');

    // Warm-up: every bot once on each side (JIT, pools, per-bot caches, grammY's getMe).
    const warm = Math.max(options.bots, Math.min(200, options.updates));
    await runLoad(fake, echoSide, warm, options.concurrency);
    await runLoad(fake, oursSide, warm, options.concurrency);

    if (scaled) {
      stats = new pg.Client({ connectionString: scaled.databaseUrl });
      await stats.connect();
    }
    const counted: DatabaseCounters = { xacts: 0, written: 0, read: 0 };
    const measure = async (side: Side): Promise<RunResult> => {
      // A pause first: the previous run's trailing work (the server's background writers, GC)
      // stays out of this one; pg_stat_database also lags up to a second behind the backends.
      await sleep(1100);
      const before = stats && scaled ? await readCounters(stats, scaled.databaseName) : undefined;
      const result = await runLoad(fake, side, options.updates, options.concurrency);
      if (side.name === 'ours' && before && stats && scaled) {
        await sleep(1100);
        const after = await readCounters(stats, scaled.databaseName);
        counted.xacts += after.xacts - before.xacts;
        counted.written += after.written - before.written;
        counted.read += after.read - before.read;
      }
      return result;
    };

    say(
      `  ${options.rounds} rounds of ${options.updates} updates per side (ours, echo, echo again; reversed every other round), ${options.concurrency} concurrent webhook POSTs, ${options.bots} bots per side`,
    );
    const rounds: { ours: RunResult; echo: RunResult; echoAgain: RunResult }[] = [];
    for (let round = 0; round < options.rounds && !aborted; round++) {
      let result: { ours?: RunResult; echo?: RunResult; echoAgain?: RunResult } = {};
      if (round % 2 === 0) {
        result.ours = await measure(oursSide);
        result.echo = await measure(echoSide);
        result.echoAgain = await measure(echoSide);
      } else {
        result.echoAgain = await measure(echoSide);
        result.echo = await measure(echoSide);
        result.ours = await measure(oursSide);
      }
      const { ours: o, echo: e, echoAgain: a } = result;
      if (!o || !e || !a) throw new Error('round incomplete');
      rounds.push({ ours: o, echo: e, echoAgain: a });
      result = {};
      say(
        `  round ${round + 1}: ours ${fmt(o.e2e)} upd/s e2e, ${fmt(o.ingest)} acked/s, p99 ${fmt(o.p99)} ms${o.refused ? `, ${o.refused} refused` : ''} | echo ${fmt(e.e2e)} / ${fmt(a.e2e)} upd/s, p99 ${fmt(e.p99)} / ${fmt(a.p99)} ms | ratio ${fmt(o.e2e / e.e2e, 3)}, echo/echo ${fmt(a.e2e / e.e2e, 3)}`,
      );
    }

    // Statements per update: restart the server with its database reached through a counting
    // proxy (kept out of the timed rounds, since the extra hop costs time), then one more run.
    let statements: StatementCounts | undefined;
    if (scaled && !aborted) {
      await children.stop(server);
      const target = new URL(scaled.databaseUrl);
      proxy = await StatementCounter.start({ host: target.hostname, port: Number(target.port || 5432) });
      const proxied = new URL(scaled.databaseUrl);
      proxied.hostname = '127.0.0.1';
      proxied.port = String(proxy.port);
      server = await startSwitchboard(
        children,
        { ...serverEnv, DATABASE_URL: proxied.toString() },
        serverUrl,
        serverLog,
      );
      await runLoad(fake, oursSide, warm, options.concurrency);
      await sleep(1000);
      const before = proxy.snapshot();
      await runLoad(fake, oursSide, options.updates, options.concurrency);
      await sleep(1000);
      const after = proxy.snapshot();
      statements = {
        statements: after.statements - before.statements,
        transactionControl: after.transactionControl - before.transactionControl,
      };
    }

    const pick = (f: (run: { ours: RunResult; echo: RunResult; echoAgain: RunResult }) => number) =>
      rounds.map(f);
    const e2eRatios = pick((r) => r.ours.e2e / r.echo.e2e);
    const noise = pick((r) => r.echoAgain.e2e / r.echo.e2e);
    const ingestRatios = pick((r) => r.ours.ingest / r.echo.ingest);
    const ingestNoise = pick((r) => r.echoAgain.ingest / r.echo.ingest);
    const p99Ratios = pick((r) => r.ours.p99 / r.echo.p99);
    const p99Noise = pick((r) => r.echoAgain.p99 / r.echo.p99);
    const totalOurs = rounds.length * options.updates;
    const backendLabel = options.backend === 'pg' ? 'PostgreSQL + Redis' : 'PGlite (embedded)';

    say('');
    say(`telegram e2e, ${backendLabel}: median of ${rounds.length} rounds (min–max)`);
    const widths = [34, 24, 24, 24, 22];
    const cells = (values: string[]) => values.map((value, i) => value.padEnd(widths[i] ?? 12)).join(' ');
    say(cells(['', 'Switchboard', 'grammY echo', 'ratio ours/echo', 'noise echo/echo']));
    say(cells(widths.map((width) => '-'.repeat(width))));
    say(
      cells([
        'end to end, updates/s',
        spread(
          pick((r) => r.ours.e2e),
          0,
        ),
        spread(
          pick((r) => r.echo.e2e),
          0,
        ),
        spread(e2eRatios, 3),
        spread(noise, 3),
      ]),
    );
    say(
      cells([
        'webhook answered, updates/s',
        spread(
          pick((r) => r.ours.ingest),
          0,
        ),
        spread(
          pick((r) => r.echo.ingest),
          0,
        ),
        spread(ingestRatios, 3),
        spread(ingestNoise, 3),
      ]),
    );
    say(
      cells([
        'webhook p50 time to 200, ms',
        spread(
          pick((r) => r.ours.p50),
          1,
        ),
        spread(
          pick((r) => r.echo.p50),
          1,
        ),
        '',
        '',
      ]),
    );
    say(
      cells([
        'webhook p99 time to 200, ms',
        spread(
          pick((r) => r.ours.p99),
          1,
        ),
        spread(
          pick((r) => r.echo.p99),
          1,
        ),
        spread(p99Ratios, 2),
        spread(p99Noise, 2),
      ]),
    );
    const refused = rounds.reduce((sum, r) => sum + r.ours.refused, 0);
    if (refused) say(`  ours refused ${refused} webhook POSTs (non-200, retried)`);
    if (scaled) {
      say(
        `  database per update (pg_stat_database of ${scaled.databaseName}, ours' timed rounds, background work included): ${fmt(counted.xacts / totalOurs, 2)} transactions, ${fmt(counted.written / totalOurs, 2)} rows written, ${fmt(counted.read / totalOurs, 1)} rows read`,
      );
      if (statements)
        say(
          `  database statements per update (wire-protocol count through a proxy, one extra run of ${options.updates}, background work included): ${fmt(statements.statements / options.updates, 2)}, of which BEGIN/COMMIT ${fmt(statements.transactionControl / options.updates, 2)}`,
        );
    } else {
      say(
        '  database per update: not observable from outside on PGlite (it runs inside the server process); see --backend pg',
      );
    }

    const rows: E2eRow[] = [
      {
        metric: `e2e updates/s (${options.backend})`,
        ours: fmt(median(pick((r) => r.ours.e2e))),
        peer: fmt(median(pick((r) => r.echo.e2e))),
        ratio: `${fmt(median(e2eRatios), 3)} [${fmt(Math.min(...e2eRatios), 3)}–${fmt(Math.max(...e2eRatios), 3)}; noise ${fmt(Math.min(...noise), 2)}–${fmt(Math.max(...noise), 2)}]`,
      },
      {
        metric: `webhook acked/s (${options.backend})`,
        ours: fmt(median(pick((r) => r.ours.ingest))),
        peer: fmt(median(pick((r) => r.echo.ingest))),
        ratio: fmt(median(ingestRatios), 3),
      },
      {
        metric: `webhook p99 ms (${options.backend})`,
        ours: fmt(median(pick((r) => r.ours.p99)), 1),
        peer: fmt(median(pick((r) => r.echo.p99)), 1),
        ratio: fmt(median(p99Ratios), 2),
      },
    ];
    if (scaled)
      rows.push({
        metric: 'db transactions/update (pg)',
        ours: fmt(counted.xacts / totalOurs, 2),
        peer: '0',
        ratio: '-',
      });
    if (statements)
      rows.push({
        metric: 'db statements/update (pg)',
        ours: fmt(statements.statements / options.updates, 2),
        peer: '0',
        ratio: '-',
      });
    return rows;
  } catch (error) {
    say(`  switchboard log (last lines, ${serverLog}):\n${tail(serverLog)}`);
    throw error;
  } finally {
    clearTimeout(deadline);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stats?.end().catch(() => undefined);
    await children.stopAll();
    await proxy?.close();
    if (scaled)
      await scaled.drop().catch((error: unknown) => say(`  could not drop the bench database: ${error}`));
    if (process.env.BENCH_KEEP_DIR) say(`  kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
