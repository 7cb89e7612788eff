import { type ChildProcess, fork } from 'node:child_process';
import http from 'node:http';
import { startTestApp, type TestApp } from '../testkit/src/start-app.ts';
import { createTestWorkspace, signUp } from '../testkit/src/users.ts';

/**
 * Realtime to the panel: N concurrent Server-Sent Events clients (default 1,000) on one
 * instance of GET /api/workspaces/:ws/events against a bare node:http SSE server holding the
 * same clients (the peer). Figures: server memory per 1,000 clients (RSS and heap delta),
 * fan-out latency of an event to every client (p50/p95 per delivery and until the last
 * client has it), and, with BENCH_DATABASE_URL + BENCH_REDIS_URL, the latency of an event
 * raised on instance B to the clients on instance A. Clients run in a child process so
 * their memory stays out of the figures.
 *
 * `node --expose-gc --import tsx bench/run.ts sse [clients] [events]` for exact heap deltas.
 */
export async function run(args: string[]) {
  const n = Number(args[0] ?? 1000);
  const count = Number(args[1] ?? 40);
  if (process.env.BENCH_DATABASE_URL) process.env.TEST_DATABASE_URL = process.env.BENCH_DATABASE_URL;
  if (process.env.BENCH_REDIS_URL) process.env.TEST_REDIS_URL = process.env.BENCH_REDIS_URL;
  const scaled = Boolean(process.env.TEST_DATABASE_URL && process.env.TEST_REDIS_URL);
  const exactGc = typeof globalThis.gc === 'function';
  const clients = await startClients();
  const rows: string[] = [];

  // ─── Peer: bare node:http SSE server, same frames ─────────────────────────
  {
    const streams = new Set<http.ServerResponse>();
    const server = http.createServer((request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      response.write('retry: 3000\n\n');
      streams.add(response);
      request.on('close', () => streams.delete(response));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
    const before = await memory();
    await clients.start(url, {}, n);
    const after = await memory();
    let id = 0;
    const latency = await fanOut(clients, n, count, async (data) => {
      id += 1;
      const frame = `id: ${id}\nevent: presence\ndata: ${JSON.stringify(data)}\n\n`;
      for (const stream of streams) stream.write(frame);
    });
    rows.push(line('bare node:http SSE (peer)', n, before, after, latency));
    await clients.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  // ─── Ours ──────────────────────────────────────────────────────────────────
  const app = await startTestApp();
  const owner = await signUp(app);
  const workspaceId = await createTestWorkspace(app, owner);
  const url = `${app.url}/api/workspaces/${workspaceId}/events`;
  const headers = { accept: 'text/event-stream', authorization: `Bearer ${owner.token}` };
  // Warm up: the first stream compiles what every later one shares.
  await clients.start(url, headers, 10);
  await clients.close();
  const before = await memory();
  await clients.start(url, headers, n);
  const after = await memory();
  const latency = await fanOut(clients, n, count, (data) =>
    app.ctx.events.publish({ workspaceId, type: 'presence', data }),
  );
  rows.push(line(`switchboard /events (${app.ctx.ports.kind} pub/sub)`, n, before, after, latency));

  let cross: Latency | undefined;
  let b: TestApp | undefined;
  if (scaled) {
    b = await startTestApp({ shareWith: app, work: false });
    const other = b;
    cross = await fanOut(clients, n, count, (data) =>
      other.ctx.events.publish({ workspaceId, type: 'presence', data }),
    );
  }
  await clients.close();
  clients.child.kill();
  await b?.close();
  await app.close();

  process.stdout.write(
    `sse bench: ${n} clients, ${count} events each, database ${app.ctx.database.kind}, ports ${app.ctx.ports.kind}${exactGc ? '' : ' (no --expose-gc: memory figures approximate)'}\n`,
  );
  process.stdout.write(
    `${'server'.padEnd(40)} ${'RSS/1k'.padStart(9)} ${'heap/1k'.padStart(9)}   delivery p50/p95   all-clients p50/p95\n`,
  );
  for (const row of rows) process.stdout.write(row);
  if (cross) {
    process.stdout.write(
      `cross-instance (raised on B, clients on A via Redis): delivery p50 ${cross.p50.toFixed(1)} ms p95 ${cross.p95.toFixed(1)} ms; all clients p50 ${cross.allP50.toFixed(1)} ms p95 ${cross.allP95.toFixed(1)} ms\n`,
    );
  } else {
    process.stdout.write('cross-instance: skipped (set BENCH_DATABASE_URL and BENCH_REDIS_URL)\n');
  }
}

interface Memory {
  rss: number;
  heapUsed: number;
}

async function memory(): Promise<Memory> {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await sleep(100);
  }
  const usage = process.memoryUsage();
  return { rss: usage.rss, heapUsed: usage.heapUsed };
}

interface Latency {
  p50: number;
  p95: number;
  allP50: number;
  allP95: number;
}

function line(label: string, n: number, before: Memory, after: Memory, latency: Latency): string {
  const mb = (bytes: number) => `${(((bytes / n) * 1000) / 1048576).toFixed(1)} MB`;
  return `${label.padEnd(40)} ${mb(after.rss - before.rss).padStart(9)} ${mb(after.heapUsed - before.heapUsed).padStart(9)}   ${latency.p50.toFixed(1).padStart(6)} / ${latency.p95.toFixed(1).padStart(6)} ms   ${latency.allP50.toFixed(1).padStart(6)} / ${latency.allP95.toFixed(1).padStart(6)} ms\n`;
}

/** Publishes `count` events 25 ms apart and waits until every client got every one. */
async function fanOut(
  clients: Clients,
  n: number,
  count: number,
  publish: (data: { seq: number; t: number }) => Promise<void>,
): Promise<Latency> {
  for (let seq = 0; seq < count; seq++) {
    await publish({ seq, t: performance.timeOrigin + performance.now() });
    await sleep(25);
  }
  const deadline = Date.now() + 30_000;
  for (;;) {
    const collected = await clients.collect();
    const complete = collected.length === count && collected.every(([, list]) => list.length >= n);
    if (complete || Date.now() > deadline) {
      if (!complete) process.stdout.write('warning: not every client received every event\n');
      const all = collected.flatMap(([, list]) => list).sort((a, b) => a - b);
      const last = collected.map(([, list]) => Math.max(...list)).sort((a, b) => a - b);
      return {
        p50: percentile(all, 0.5),
        p95: percentile(all, 0.95),
        allP50: percentile(last, 0.5),
        allP95: percentile(last, 0.95),
      };
    }
    await sleep(100);
  }
}

interface Clients {
  child: ChildProcess;
  start(url: string, headers: Record<string, string>, n: number): Promise<void>;
  collect(): Promise<Array<[number, number[]]>>;
  close(): Promise<void>;
}

async function startClients(): Promise<Clients> {
  const child = fork(new URL('./sse-clients.ts', import.meta.url), [], { execArgv: ['--import', 'tsx'] });
  const next = (kind: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const onMessage = (message: unknown) => {
        if (typeof message === 'object' && message !== null && 'kind' in message && message.kind === kind) {
          child.off('message', onMessage);
          resolve(Object.fromEntries(Object.entries(message)));
        }
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`client process exited (${code})`)));
    });
  await next('ready');
  return {
    child,
    async start(url, headers, n) {
      const started = next('started');
      child.send({ kind: 'start', url, headers, n });
      await started;
    },
    async collect() {
      const collected = next('collected');
      child.send({ kind: 'collect' });
      const message = await collected;
      const latencies = message.latencies;
      return Array.isArray(latencies) ? latencies : [];
    },
    async close() {
      const closed = next('closed');
      child.send({ kind: 'close' });
      await closed;
      await sleep(200);
    },
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
