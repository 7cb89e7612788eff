import autocannon from 'autocannon';
import { count, eq } from 'drizzle-orm';
import Fastify from 'fastify';
import { defaultBotConfig } from '../src/features/bots/bot-config.ts';
import { botConfigVersions, bots } from '../src/features/bots/schema.ts';
import { channels } from '../src/features/channels/schema.ts';
import { contacts, conversations } from '../src/features/conversations/schema.ts';
import { queueOutgoing } from '../src/pipeline/outgoing.ts';
import { inboxUpdates } from '../src/pipeline/schema.ts';
import { wakeWorkers } from '../src/pipeline/wake.ts';
import { encryptSecret, randomToken } from '../src/platform/crypto.ts';
import { FakeTelegram, type RateLimitOptions } from '../testkit/src/fake-telegram.ts';
import { startTestApp, type TestApp } from '../testkit/src/start-app.ts';
import { createTestWorkspace, signUp } from '../testkit/src/users.ts';
import type { Options, Row } from './telegram.ts';
import { textUpdateBody } from './telegram-update-body.ts';

/**
 * The parts of `npm run bench -- telegram` that share one process (app, embedded database,
 * fake Telegram, load generator): ingest, density, pacing. Loaded only when one of them runs,
 * so that the out-of-process e2e part depends on nothing inside src/.
 */

// The highest per-user rate a config allows; each benchmark chat sends one update anyway.
const HIGH_THROTTLE = defaultBotConfig({ language: 'en', throttle: { perSecond: 100, burst: 100 } });
const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

interface SeededBot {
  token: string;
  botId: string;
  channelId: string;
  secret: string;
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (value: number, digits = 0) => value.toFixed(digits);
const ratio = (ours: number, peer: number) => (peer > 0 ? fmt(ours / peer, 3) : 'n/a');

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

async function startApp(fake: FakeTelegram, work = true): Promise<{ app: TestApp; workspaceId: string }> {
  const app = await startTestApp({ env: { TELEGRAM_API_ROOT: fake.url }, work });
  const owner = await signUp(app);
  const workspaceId = await createTestWorkspace(app, owner);
  return { app, workspaceId };
}

/** Registers `n` bots with the fake and seeds bots, published configs and channels in batches. */
async function seedBots(
  app: TestApp,
  fake: FakeTelegram,
  workspaceId: string,
  n: number,
  config: Record<string, unknown>,
): Promise<SeededBot[]> {
  const seeded: SeededBot[] = [];
  const batch = 500;
  for (let start = 0; start < n; start += batch) {
    const size = Math.min(batch, n - start);
    const fakeBots = Array.from({ length: size }, () => fake.addBot());
    const botRows = await app.ctx.db
      .insert(bots)
      .values(fakeBots.map((_, i) => ({ workspaceId, name: `Bench bot ${start + i}` })))
      .returning({ id: bots.id });
    await app.ctx.db.insert(botConfigVersions).values(
      botRows.map((bot) => ({
        workspaceId,
        botId: bot.id,
        version: 1,
        status: 'published' as const,
        config,
      })),
    );
    const secrets = fakeBots.map(() => randomToken(24));
    const channelRows = await app.ctx.db
      .insert(channels)
      .values(
        fakeBots.map((telegramBot, i) => ({
          workspaceId,
          botId: botRows[i]?.id ?? '',
          type: 'telegram' as const,
          mode: 'webhook' as const,
          externalId: String(telegramBot.id),
          username: telegramBot.username,
          encryptedToken: encryptSecret(app.ctx.keys.encryption, telegramBot.token),
          webhookSecret: secrets[i] ?? '',
        })),
      )
      .returning({ id: channels.id, botId: channels.botId });
    channelRows.forEach((channel, i) => {
      const telegramBot = fakeBots[i];
      if (!telegramBot) throw new Error('seed mismatch');
      seeded.push({
        token: telegramBot.token,
        botId: channel.botId,
        channelId: channel.id,
        secret: secrets[i] ?? '',
      });
    });
  }
  return seeded;
}

// ─── 1. ingest ────────────────────────────────────────────────────────────────

export async function benchIngest(options: Options, rows: Row[]): Promise<void> {
  const fake = await FakeTelegram.start({ rateLimits: false });
  // The `web` role: webhooks are stored and acknowledged here, processing runs on workers.
  const { app, workspaceId } = await startApp(fake, false);
  const channelCount = 20;
  const seeded = await seedBots(app, fake, workspaceId, channelCount, HIGH_THROTTLE);
  const connections = 20;

  const peer = Fastify({ bodyLimit: 1024 * 1024 });
  peer.post('/hooks/telegram/:channelId', async () => ({ ok: true }));
  await peer.listen({ port: 0, host: '127.0.0.1' });
  const address = peer.server.address();
  const peerUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  let updateId = 1;
  const measure = (url: string) =>
    autocannon({
      url,
      connections,
      duration: options.seconds,
      requests: [
        {
          method: 'POST',
          setupRequest: (request) => {
            const id = updateId++;
            const target = seeded[id % seeded.length];
            if (!target) throw new Error('no channel');
            return {
              ...request,
              path: `/hooks/telegram/${target.channelId}`,
              headers: { 'content-type': 'application/json', [SECRET_HEADER]: target.secret },
              body: textUpdateBody(id, 1_000_000 + id, '/help'),
            };
          },
        },
      ],
    });

  say(
    `ingest: ${options.seconds}s per target, ${connections} connections, ${channelCount} channels, one new chat per update, role web (ingest only; workers elsewhere)`,
  );
  const peerResult = await measure(peerUrl);
  const firstOurs = updateId;
  const ours = await measure(app.url);
  const sentByUs = updateId - firstOurs;
  const [stored] = await app.ctx.db.select({ n: count() }).from(inboxUpdates);
  const line = (label: string, result: autocannon.Result) =>
    say(
      `  ${label.padEnd(40)} ${fmt(result.requests.average).padStart(7)} req/s  p50 ${result.latency.p50} ms  p99 ${result.latency.p99} ms  2xx ${result['2xx']}  non-2xx ${result.non2xx}  errors ${result.errors}`,
    );
  line('bare Fastify route, same body (peer)', peerResult);
  line('POST /hooks/telegram/:channelId (ours)', ours);
  say(`  inbox rows stored: ${stored?.n ?? 0} (requests started: ${sentByUs}, 2xx: ${ours['2xx']})`);
  rows.push(
    {
      part: 'ingest',
      metric: 'updates/s accepted',
      ours: fmt(ours.requests.average),
      peer: fmt(peerResult.requests.average),
      ratio: ratio(ours.requests.average, peerResult.requests.average),
    },
    {
      part: 'ingest',
      metric: 'latency p50 / p99 (ms)',
      ours: `${ours.latency.p50} / ${ours.latency.p99}`,
      peer: `${peerResult.latency.p50} / ${peerResult.latency.p99}`,
      ratio: ratio(ours.latency.p99, peerResult.latency.p99),
    },
  );
  await peer.close();
  await app.close();
  await fake.close();
}

// ─── 3. density ───────────────────────────────────────────────────────────────

interface Memory {
  rss: number;
  heapUsed: number;
  external: number;
}

async function memory(): Promise<Memory> {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await sleep(50);
  }
  const usage = process.memoryUsage();
  return { rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external };
}

const perBot = (after: Memory, before: Memory, n: number) => ({
  rss: (after.rss - before.rss) / n,
  heapUsed: (after.heapUsed - before.heapUsed) / n,
  external: (after.external - before.external) / n,
});

export async function benchDensity(options: Options, rows: Row[]): Promise<void> {
  const n = options.bots ?? 10_000;
  const active = Math.min(options.active, n);
  const exactGc = typeof globalThis.gc === 'function';
  const fake = await FakeTelegram.start({ rateLimits: false });
  const { app, workspaceId } = await startApp(fake);
  say(
    `density: ${n} bots registered in one process, ${active} of them take one update end to end; ${exactGc ? 'global.gc() before each reading' : 'WITHOUT --expose-gc (readings include garbage; run with NODE_OPTIONS=--expose-gc)'}`,
  );
  const m0 = await memory();
  const seedStarted = performance.now();
  const seeded = await seedBots(app, fake, workspaceId, n, HIGH_THROTTLE);
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  const m1 = await memory();

  // Each active bot gets one update on its own webhook, 32 in flight; then wait for every reply.
  const baseline = fake.sentCount();
  const started = performance.now();
  let next = 0;
  let failures = 0;
  const worker = async () => {
    while (next < active) {
      const index = next++;
      const bot = seeded[index];
      if (!bot) break;
      const response = await fetch(`${app.url}/hooks/telegram/${bot.channelId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SECRET_HEADER]: bot.secret },
        body: textUpdateBody(index + 1, 3_000_000 + index, '/help'),
      });
      await response.arrayBuffer();
      if (response.status !== 200) failures += 1;
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  await waitUntil(() => fake.sentCount() - baseline >= active, 600_000, `${active} replies`);
  const trafficSeconds = (performance.now() - started) / 1000;
  // Drop what the fake recorded (requests, sent messages) so it does not count as ours.
  fake.reset();
  await sleep(500);
  const m2 = await memory();

  const seedCost = perBot(m1, m0, n);
  const activeCost = perBot(m2, m1, active);
  const total = {
    rss: seedCost.rss + activeCost.rss,
    heapUsed: seedCost.heapUsed + activeCost.heapUsed,
    external: seedCost.external + activeCost.external,
  };
  say(
    `  seeded ${n} bots in ${fmt(seedSeconds, 1)} s; ${active} updates → replies in ${fmt(trafficSeconds, 1)} s (${fmt(active / trafficSeconds)} /s), webhook failures ${failures}`,
  );
  const line = (label: string, cost: { rss: number; heapUsed: number; external: number }) =>
    say(
      `  ${label.padEnd(44)} RSS ${fmt(cost.rss).padStart(7)} B/bot  heap ${fmt(cost.heapUsed).padStart(7)} B/bot  external ${fmt(cost.external).padStart(7)} B/bot`,
    );
  line(`registered (rows + fake bot state), /${n}`, seedCost);
  line(`activated (one update each), /${active}`, activeCost);
  line('registered + activated, per bot', total);
  say(
    `  absolute: RSS ${fmt(m0.rss / 2 ** 20)} → ${fmt(m1.rss / 2 ** 20)} → ${fmt(m2.rss / 2 ** 20)} MiB, heap ${fmt(m0.heapUsed / 2 ** 20)} → ${fmt(m1.heapUsed / 2 ** 20)} → ${fmt(m2.heapUsed / 2 ** 20)} MiB`,
  );
  rows.push(
    {
      part: 'density',
      metric: `heap B/bot (${n} reg, ${active} act)`,
      ours: fmt(total.heapUsed),
      peer: '-',
      ratio: '-',
    },
    {
      part: 'density',
      metric: `RSS B/bot (${n} reg, ${active} act)`,
      ours: fmt(total.rss),
      peer: '-',
      ratio: '-',
    },
  );
  await app.close();
  await fake.close();
}

// ─── 4. pacing ────────────────────────────────────────────────────────────────

export async function benchPacing(options: Options, rows: Row[]): Promise<void> {
  const n = options.pacing;
  const limits: RateLimitOptions = {};
  const fake = await FakeTelegram.start({ rateLimits: limits });
  const { app, workspaceId } = await startApp(fake);
  const [bot] = await seedBots(app, fake, workspaceId, 1, HIGH_THROTTLE);
  if (!bot) throw new Error('no bot');
  const chatIds = Array.from({ length: n }, (_, i) => String(4_000_000 + i));
  const contactRows = await app.ctx.db
    .insert(contacts)
    .values(chatIds.map((chatId) => ({ workspaceId, channelId: bot.channelId, externalId: chatId })))
    .returning({ id: contacts.id, externalId: contacts.externalId });
  const conversationRows = await app.ctx.db
    .insert(conversations)
    .values(
      contactRows.map((contact) => ({
        workspaceId,
        botId: bot.botId,
        channelId: bot.channelId,
        contactId: contact.id,
        chatId: contact.externalId,
      })),
    )
    .returning({ id: conversations.id, chatId: conversations.chatId });
  await app.ctx.db.transaction(async (tx) => {
    for (const conversation of conversationRows)
      await queueOutgoing(tx, {
        channel: { id: bot.channelId, workspaceId },
        conversationId: conversation.id,
        chatId: conversation.chatId,
        idempotencyPrefix: `bench-${conversation.chatId}`,
        sender: 'system',
        items: [{ kind: 'text', text: 'Our summer sale starts today.' }],
      });
  });
  const [channel] = await app.ctx.db.select().from(channels).where(eq(channels.id, bot.channelId));
  if (!channel) throw new Error('no channel');

  say(`pacing: ${n} messages from one bot to ${n} chats, fake flood control ON (30/s per bot, token bucket)`);
  const started = performance.now();
  wakeWorkers(app.ctx, 'send');
  await waitUntil(
    () => fake.sentMessages(bot.token).length >= n,
    Math.ceil((n / 30) * 3000 + 30_000),
    `${n} paced sends`,
  );
  const seconds = (performance.now() - started) / 1000;
  const sends = fake
    .requests({ token: bot.token, method: 'sendMessage' })
    .map((request) => ({ at: request.at, ok: request.status === 200 }));
  const okTimes = sends.filter((send) => send.ok).map((send) => send.at);
  const tooMany = fake.tooManyRequestsCount(bot.token);
  const first = okTimes[0] ?? 0;
  const last = okTimes[okTimes.length - 1] ?? 0;
  const steady = last > first ? ((okTimes.length - 1) * 1000) / (last - first) : Number.NaN;
  // Densest 1 s of attempted sends (both answered and refused), from the fake's arrival times.
  const attempts = sends.map((send) => send.at).sort((a, b) => a - b);
  let densest = 0;
  for (let i = 0, j = 0; i < attempts.length; i++) {
    while ((attempts[i] ?? 0) - (attempts[j] ?? 0) >= 1000) j++;
    densest = Math.max(densest, i - j + 1);
  }
  const achieved = n / seconds;
  say(
    `  ${n} delivered in ${fmt(seconds, 1)} s: ${fmt(achieved, 1)} msg/s overall (${fmt((achieved / 30) * 100, 1)}% of 30), first→last send ${fmt(steady, 1)} msg/s (${fmt((steady / 30) * 100, 1)}%)`,
  );
  say(
    `  429 answers from the fake: ${tooMany}; sendMessage attempts ${sends.length}; densest 1 s window: ${densest} attempts`,
  );
  rows.push(
    {
      part: 'pacing',
      metric: 'msg/s one bot, 30/s limit',
      ours: fmt(achieved, 1),
      peer: '30 (limit)',
      ratio: fmt(achieved / 30, 3),
    },
    { part: 'pacing', metric: '429 answers', ours: String(tooMany), peer: '0 (goal)', ratio: '-' },
  );
  await app.close();
  await fake.close();
}
