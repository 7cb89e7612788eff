import os from 'node:os';
import { runTelegramE2e } from './telegram-e2e.ts';

/**
 * The Telegram message path, each part beside a peer measured in the same run:
 *   ingest   webhook POSTs accepted per second vs a bare Fastify route taking the same body;
 *   e2e      webhook → reply recorded by the fake Telegram vs a grammY webhookCallback echo bot,
 *            out of process as users run it (telegram-e2e.ts): `switchboard start`, the fake Bot
 *            API and the echo bot each in a process of their own, the load from this one;
 *   density  memory per connected bot with many bots registered and each one active once;
 *   pacing   one bot sending to many chats under the fake's Telegram-like flood control.
 * Usage: npm run bench -- telegram [ingest|e2e|density|pacing] [--backend pg|pglite] [seconds=5]
 *        [e2e=2000] [rounds=3] [concurrency=50] [timeout=1800] [bots=…] [active=1000] [pacing=2000]
 *        (bots: e2e bots per side, default 200; density's registered bots, default 10000.
 *        active: how many of the registered bots take an update; active=10000 makes all of
 *        them, ~4 min on PGlite). Run with NODE_OPTIONS=--expose-gc for exact memory figures.
 * Backend: PostgreSQL + Redis with `--backend pg` and BENCH_DATABASE_URL (or DATABASE_URL), e.g.
 *   postgres://postgres@127.0.0.1:5432/test; e2e creates and drops a database `bench_<random>` on
 *   that server and starts its own redis-server unless BENCH_REDIS_URL is set. BENCH_LOG_LEVEL and
 *   BENCH_SERVER_NODE_ARGS (e.g. --cpu-prof, with BENCH_KEEP_DIR=1) reach the e2e server.
 * ingest, density and pacing share this one process (app, embedded database, fake, load).
 */
const PARTS = ['density', 'ingest', 'e2e', 'pacing'] as const;
type Part = (typeof PARTS)[number];
export interface Options {
  parts: Part[];
  backend: 'pg' | 'pglite';
  databaseUrl: string | undefined;
  seconds: number;
  e2e: number;
  rounds: number;
  concurrency: number;
  timeout: number;
  bots: number | undefined;
  active: number;
  pacing: number;
}

export interface Row {
  part: string;
  metric: string;
  ours: string;
  peer: string;
  ratio: string;
}

function isPart(value: string): value is Part {
  return PARTS.some((part) => part === value);
}

function parseOptions(args: string[]): Options {
  const url = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL;
  const options: Options = {
    parts: [],
    backend: url ? 'pg' : 'pglite',
    databaseUrl: url,
    seconds: 5,
    e2e: 2000,
    rounds: 3,
    concurrency: 50,
    timeout: 1800,
    bots: undefined,
    active: 1000,
    pacing: 2000,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (isPart(arg)) {
      options.parts.push(arg);
      continue;
    }
    if (arg.startsWith('--backend')) {
      const backend = arg.includes('=') ? arg.split('=')[1] : args[++i];
      if (backend !== 'pg' && backend !== 'pglite') throw new Error('--backend is pg or pglite');
      options.backend = backend;
      continue;
    }
    const [key, raw] = arg.split('=');
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`bad argument "${arg}"`);
    if (key === 'seconds') options.seconds = value;
    else if (key === 'e2e') options.e2e = Math.round(value);
    else if (key === 'rounds') options.rounds = Math.round(value);
    else if (key === 'concurrency') options.concurrency = Math.round(value);
    else if (key === 'timeout') options.timeout = value;
    else if (key === 'bots') options.bots = Math.round(value);
    else if (key === 'active') options.active = Math.round(value);
    else if (key === 'pacing') options.pacing = Math.round(value);
    else throw new Error(`unknown argument "${arg}"`);
  }
  if (options.backend === 'pg' && !url)
    throw new Error('--backend pg needs BENCH_DATABASE_URL (or DATABASE_URL)');
  if (options.backend === 'pglite') options.databaseUrl = undefined;
  if (options.parts.length === 0) options.parts = [...PARTS];
  return options;
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const fmt = (value: number, digits = 0) => value.toFixed(digits);

// ─── 2. end to end ────────────────────────────────────────────────────────────

/** Out of process, as users run it: see telegram-e2e.ts. */
async function benchE2e(options: Options, rows: Row[]): Promise<void> {
  const e2eRows = await runTelegramE2e({
    bots: options.bots ?? 200,
    updates: options.e2e,
    rounds: options.rounds,
    concurrency: options.concurrency,
    backend: options.backend,
    databaseUrl: options.databaseUrl,
    redisUrl: process.env.BENCH_REDIS_URL,
    timeoutSeconds: options.timeout,
  });
  for (const row of e2eRows) rows.push({ part: 'e2e', ...row });
}
// ─── entry ────────────────────────────────────────────────────────────────────

export async function run(args: string[]) {
  const options = parseOptions(args);
  // The in-process parts follow the same backend through the test kit's variables.
  if (options.databaseUrl) process.env.TEST_DATABASE_URL = options.databaseUrl;
  else delete process.env.TEST_DATABASE_URL;
  if (options.backend === 'pg' && process.env.BENCH_REDIS_URL)
    process.env.TEST_REDIS_URL = process.env.BENCH_REDIS_URL;
  const cpus = os.cpus();
  say(
    `telegram bench: ${os.type()} ${os.release()}, ${cpus.length} × ${cpus[0]?.model ?? '?'}, node ${process.version}, backend ${options.backend === 'pg' ? 'PostgreSQL + Redis' : 'PGlite (embedded)'}`,
  );
  const rows: Row[] = [];
  const inProcess = () => import('./telegram-in-process.ts');
  const bench: Record<Part, (options: Options, rows: Row[]) => Promise<void>> = {
    ingest: async (o, r) => (await inProcess()).benchIngest(o, r),
    e2e: benchE2e,
    density: async (o, r) => (await inProcess()).benchDensity(o, r),
    pacing: async (o, r) => (await inProcess()).benchPacing(o, r),
  };
  const started = performance.now();
  for (const part of options.parts) await bench[part](options, rows);
  say('');
  const widths = [8, 32, 14, 14, 12];
  const cells = (values: string[]) => values.map((value, i) => value.padEnd(widths[i] ?? 10)).join(' ');
  say(cells(['part', 'metric', 'ours', 'peer', 'ours/peer']));
  say(cells(widths.map((width) => '-'.repeat(width))));
  for (const row of rows) say(cells([row.part, row.metric, row.ours, row.peer, row.ratio]));
  say(`total ${fmt((performance.now() - started) / 1000, 1)} s`);
}
