import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import os from 'node:os';
import autocannon from 'autocannon';
import { count, eq } from 'drizzle-orm';
import Fastify from 'fastify';
import { Api, Bot, webhookCallback } from 'grammy';
import { defaultBotConfig } from '../src/features/bots/bot-config.ts';
import { botConfigVersions, bots } from '../src/features/bots/schema.ts';
import { channels } from '../src/features/channels/schema.ts';
import { contacts, conversations } from '../src/features/conversations/schema.ts';
import { queueOutgoing } from '../src/pipeline/outgoing.ts';
import { inboxUpdates } from '../src/pipeline/schema.ts';
import { enqueueSend } from '../src/pipeline/sender.ts';
import { readResponderConfig, textOf } from '../src/pipeline/simple-responder.ts';
import { encryptSecret, randomToken } from '../src/platform/crypto.ts';
import { FakeTelegram, type RateLimitOptions } from '../testkit/src/fake-telegram.ts';
import { startTestApp, type TestApp } from '../testkit/src/start-app.ts';
import { createTestWorkspace, signUp } from '../testkit/src/users.ts';

/**
 * The Telegram message path, each part beside a peer measured in the same run:
 *   ingest   webhook POSTs accepted per second vs a bare Fastify route taking the same body;
 *   e2e      webhook → reply recorded by the fake Telegram vs a grammY webhookCallback echo bot;
 *   density  memory per connected bot with many bots registered and each one active once;
 *   pacing   one bot sending to many chats under the fake's Telegram-like flood control.
 * Usage: npm run bench -- telegram [ingest|e2e|density|pacing] [seconds=5] [e2e=1000]
 *        [bots=10000] [active=1000] [pacing=2000] (active: how many of the registered bots
 *        take an update; active=10000 makes all of them, ~4 min on PGlite). Run with NODE_OPTIONS=--expose-gc for exact memory figures.
 * Everything (app, embedded database, fake Telegram, load generator) shares this one process.
 */

const PARTS = ['density', 'ingest', 'e2e', 'pacing'] as const;
type Part = (typeof PARTS)[number];

// The highest per-user rate a config allows; each benchmark chat sends one update anyway.
const HIGH_THROTTLE = defaultBotConfig({ language: 'en', throttle: { perSecond: 100, burst: 100 } });
const HELP_TEXT = textOf(readResponderConfig(HIGH_THROTTLE), 'helpText', 'en');
const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

interface Options {
  parts: Part[];
  seconds: number;
  e2e: number;
  bots: number;
  active: number;
  pacing: number;
}

interface Row {
  part: string;
  metric: string;
  ours: string;
  peer: string;
  ratio: string;
}

interface SeededBot {
  token: string;
  botId: string;
  channelId: string;
  secret: string;
}

function isPart(value: string): value is Part {
  return PARTS.some((part) => part === value);
}

function parseOptions(args: string[]): Options {
  const options: Options = { parts: [], seconds: 5, e2e: 1000, bots: 10_000, active: 1000, pacing: 2000 };
  for (const arg of args) {
    if (isPart(arg)) {
      options.parts.push(arg);
      continue;
    }
    const [key, raw] = arg.split('=');
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`bad argument "${arg}"`);
    if (key === 'seconds') options.seconds = value;
    else if (key === 'e2e') options.e2e = Math.round(value);
    else if (key === 'bots') options.bots = Math.round(value);
    else if (key === 'active') options.active = Math.round(value);
    else if (key === 'pacing') options.pacing = Math.round(value);
    else throw new Error(`unknown argument "${arg}"`);
  }
  if (options.parts.length === 0) options.parts = [...PARTS];
  options.active = Math.min(options.active, options.bots);
  return options;
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (value: number, digits = 0) => value.toFixed(digits);
const ratio = (ours: number, peer: number) => (peer > 0 ? fmt(ours / peer, 3) : 'n/a');

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

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

function textUpdateBody(updateId: number, chatId: number, text: string): string {
  return JSON.stringify({
    update_id: updateId,
    message: {
      message_id: updateId,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chatId, type: 'private', first_name: 'Ann' },
      from: { id: chatId, is_bot: false, first_name: 'Ann', language_code: 'en' },
      text,
      ...(text.startsWith('/')
        ? { entities: [{ type: 'bot_command', offset: 0, length: text.length }] }
        : {}),
    },
  });
}

// ─── 1. ingest ────────────────────────────────────────────────────────────────

async function benchIngest(options: Options, rows: Row[]): Promise<void> {
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

// ─── 2. end to end ────────────────────────────────────────────────────────────

interface E2eResult {
  perSecond: number;
  p50: number;
  p99: number;
  seconds: number;
}

/** Pushes one update per chat through the fake's parallel webhook delivery; waits for every reply. */
async function pushAndWait(fake: FakeTelegram, tokens: string[], n: number): Promise<E2eResult> {
  const pushedAt = new Map<string, number>();
  const tokenSet = new Set(tokens);
  const baseline = fake.sentCount();
  const started = performance.now();
  const startedAt = Date.now();
  for (let i = 0; i < n; i++) {
    const token = tokens[i % tokens.length] ?? '';
    const chatId = 2_000_000 + i;
    pushedAt.set(`${token}:${chatId}`, Date.now());
    fake.sendText(token, { chatId, from: { id: chatId, first_name: 'Ann' }, text: '/help' });
  }
  await waitUntil(() => fake.sentCount() - baseline >= n, 120_000, `${n} replies`);
  const seconds = (performance.now() - started) / 1000;
  const latencies = fake
    .requests(
      (request) =>
        request.method === 'sendMessage' &&
        request.status === 200 &&
        request.at >= startedAt &&
        tokenSet.has(request.token),
    )
    .map((request) => request.at - (pushedAt.get(`${request.token}:${String(request.params.chat_id)}`) ?? 0))
    .sort((a, b) => a - b);
  return { perSecond: n / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), seconds };
}

async function benchE2e(options: Options, rows: Row[]): Promise<void> {
  const fake = await FakeTelegram.start({ rateLimits: false, webhookDelivery: 'parallel' });
  const { app, workspaceId } = await startApp(fake);
  // The sender paces each bot at DEFAULT_PACING (30 msg/s) and startTestApp offers no way to
  // raise it, so the load is spread over enough bots that pacing never binds (ceiling below).
  const botCount = 50;
  const n = options.e2e;
  const maxConnections = 40;

  const ours = await seedBots(app, fake, workspaceId, botCount, HIGH_THROTTLE);
  for (const bot of ours)
    await new Api(bot.token, { apiRoot: fake.url }).setWebhook(`${app.url}/hooks/telegram/${bot.channelId}`, {
      secret_token: bot.secret,
      max_connections: maxConnections,
    });

  // The peer: one grammY Bot per token behind webhookCallback on a node:http server, replying
  // the same text with sendMessage and keeping nothing.
  const handlers = new Map<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>>();
  const peerTokens: string[] = [];
  for (let i = 0; i < botCount; i++) {
    const info = fake.addBot();
    const bot = new Bot(info.token, {
      botInfo: {
        id: info.id,
        is_bot: true,
        first_name: info.firstName,
        username: info.username,
        can_join_groups: true,
        can_read_all_group_messages: false,
        supports_inline_queries: false,
        can_connect_to_business: false,
        has_main_web_app: false,
        has_topics_enabled: false,
        allows_users_to_create_topics: false,
        can_manage_bots: false,
        supports_join_request_queries: false,
      },
      client: { apiRoot: fake.url },
    });
    bot.on('message:text', async (ctx) => {
      await ctx.reply(HELP_TEXT);
    });
    handlers.set(`/peer/${i}`, webhookCallback(bot, 'http'));
    peerTokens.push(info.token);
  }
  const peerServer = createServer((req, res) => {
    const handler = handlers.get(req.url ?? '');
    if (handler) void handler(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => peerServer.listen(0, '127.0.0.1', resolve));
  const address = peerServer.address();
  const peerUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  for (const [i, token] of peerTokens.entries())
    await new Api(token, { apiRoot: fake.url }).setWebhook(`${peerUrl}/peer/${i}`, {
      max_connections: maxConnections,
    });

  say(
    `e2e: ${n} updates, one per chat, over ${botCount} bots (sender pacing ceiling ${botCount * 30} msg/s), fake webhookDelivery parallel, max_connections ${maxConnections}, fake rate limits off`,
  );
  // A short warm-up on both sides (JIT, connection pools, per-channel caches).
  await pushAndWait(fake, peerTokens, Math.min(200, n));
  await pushAndWait(
    fake,
    ours.map((bot) => bot.token),
    Math.min(200, n),
  );
  const peerResult = await pushAndWait(fake, peerTokens, n);
  const oursResult = await pushAndWait(
    fake,
    ours.map((bot) => bot.token),
    n,
  );
  const line = (label: string, result: E2eResult) =>
    say(
      `  ${label.padEnd(40)} ${fmt(result.perSecond).padStart(7)} updates/s  (${fmt(result.seconds, 2)} s)  reply latency p50 ${fmt(result.p50)} ms  p99 ${fmt(result.p99)} ms`,
    );
  line('grammY webhookCallback echo (peer)', peerResult);
  line('Switchboard pipeline (ours)', oursResult);
  rows.push(
    {
      part: 'e2e',
      metric: 'updates/s webhook → reply',
      ours: fmt(oursResult.perSecond),
      peer: fmt(peerResult.perSecond),
      ratio: ratio(oursResult.perSecond, peerResult.perSecond),
    },
    {
      part: 'e2e',
      metric: 'reply latency p50 / p99 (ms)',
      ours: `${fmt(oursResult.p50)} / ${fmt(oursResult.p99)}`,
      peer: `${fmt(peerResult.p50)} / ${fmt(peerResult.p99)}`,
      ratio: ratio(oursResult.p99, peerResult.p99),
    },
  );
  await new Promise<void>((resolve) => peerServer.close(() => resolve()));
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

async function benchDensity(options: Options, rows: Row[]): Promise<void> {
  const n = options.bots;
  const active = options.active;
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

async function benchPacing(options: Options, rows: Row[]): Promise<void> {
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
  for (const chatId of chatIds) await enqueueSend(app.ctx, bot.channelId, chatId);
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

// ─── entry ────────────────────────────────────────────────────────────────────

export async function run(args: string[]) {
  const options = parseOptions(args);
  if (process.env.BENCH_DATABASE_URL) process.env.TEST_DATABASE_URL = process.env.BENCH_DATABASE_URL;
  if (process.env.BENCH_REDIS_URL) process.env.TEST_REDIS_URL = process.env.BENCH_REDIS_URL;
  const cpus = os.cpus();
  say(
    `telegram bench: ${os.type()} ${os.release()}, ${cpus.length} × ${cpus[0]?.model ?? '?'}, node ${process.version}, database ${process.env.TEST_DATABASE_URL ? 'postgres (external server)' : 'pglite (embedded, same process)'}, ${process.env.TEST_REDIS_URL ? 'redis' : 'in-memory'} queue/locks/limiter`,
  );
  const rows: Row[] = [];
  const bench: Record<Part, (options: Options, rows: Row[]) => Promise<void>> = {
    ingest: benchIngest,
    e2e: benchE2e,
    density: benchDensity,
    pacing: benchPacing,
  };
  const started = performance.now();
  for (const part of options.parts) await bench[part](options, rows);
  say('');
  const widths = [8, 32, 14, 14, 8];
  const cells = (values: string[]) => values.map((value, i) => value.padEnd(widths[i] ?? 10)).join(' ');
  say(cells(['part', 'metric', 'ours', 'peer', 'ours/peer']));
  say(cells(widths.map((width) => '-'.repeat(width))));
  for (const row of rows) say(cells([row.part, row.metric, row.ours, row.peer, row.ratio]));
  say(`total ${fmt((performance.now() - started) / 1000, 1)} s`);
}
