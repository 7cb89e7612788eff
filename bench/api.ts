import autocannon from 'autocannon';
import Fastify from 'fastify';
import { startTestApp } from '../testkit/src/start-app.ts';
import { createTestWorkspace, signUp } from '../testkit/src/users.ts';

/**
 * What the platform layer costs per request: GET /api/workspaces/:ws (JWT verify, user and
 * membership lookups, zod serialization, audit-free read) against a bare Fastify route that
 * returns the same JSON. Set BENCH_DATABASE_URL / BENCH_REDIS_URL to measure on PostgreSQL.
 */
export async function run(args: string[]) {
  const seconds = Number(args[0] ?? 5);
  if (process.env.BENCH_DATABASE_URL) process.env.TEST_DATABASE_URL = process.env.BENCH_DATABASE_URL;
  if (process.env.BENCH_REDIS_URL) process.env.TEST_REDIS_URL = process.env.BENCH_REDIS_URL;
  const app = await startTestApp();
  const owner = await signUp(app);
  const workspaceId = await createTestWorkspace(app, owner);
  const sample = await app.api(`/api/workspaces/${workspaceId}`, { token: owner.token });

  const peer = Fastify();
  peer.get('/x', async () => sample.body);
  await peer.listen({ port: 0, host: '127.0.0.1' });
  const address = peer.server.address();
  const peerUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/x`;

  const measure = (url: string, headers: Record<string, string> = {}) =>
    autocannon({ url, connections: 20, duration: seconds, headers });

  process.stdout.write(
    `api bench: ${seconds}s per target, 20 connections, database ${app.ctx.database.kind}\n`,
  );
  const peerResult = await measure(peerUrl);
  const ours = await measure(`${app.url}/api/workspaces/${workspaceId}`, {
    authorization: `Bearer ${owner.token}`,
  });
  const row = (label: string, result: autocannon.Result) =>
    `${label.padEnd(34)} ${result.requests.average.toFixed(0).padStart(8)} req/s   p50 ${String(result.latency.p50).padStart(4)} ms   p99 ${String(result.latency.p99).padStart(4)} ms   non-2xx ${result.non2xx}\n`;
  process.stdout.write(row('bare Fastify, same JSON (peer)', peerResult));
  process.stdout.write(row('GET /api/workspaces/:ws (ours)', ours));
  process.stdout.write(
    `ratio ours/peer throughput: ${(ours.requests.average / peerResult.requests.average).toFixed(3)}\n`,
  );
  await peer.close();
  await app.close();
}
