import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTelegram } from '../../../testkit/src/fake-telegram.ts';
import { connectSse, type SseClient } from '../../../testkit/src/sse-client.ts';
import { startTestApp, type TestApp } from '../../../testkit/src/start-app.ts';
import { seedTelegramBot } from '../../../testkit/src/telegram-bot.ts';
import { addMember, createTestWorkspace, signUp, type TestUser } from '../../../testkit/src/users.ts';

let fake: FakeTelegram;
let app: TestApp;
const streams: SseClient[] = [];

beforeAll(async () => {
  fake = await FakeTelegram.start({ webhookRetryBaseMs: 20 });
  app = await startTestApp({ env: { TELEGRAM_API_ROOT: fake.url, SSE_HEARTBEAT_MS: '200' } });
});
afterAll(async () => {
  for (const stream of streams) stream.close();
  await app?.close();
  await fake?.close();
});

const customer = (id: number) => ({ id, first_name: 'Cy', username: `cy${id}` });
let nextChat = 12_000;

async function open(
  target: TestApp,
  workspaceId: string,
  user: TestUser,
  options: { lastEventId?: string } = {},
) {
  const client = await connectSse(`${target.url}/api/workspaces/${workspaceId}/events`, {
    token: user.token,
    ...options,
  });
  streams.push(client);
  return client;
}

function presence(workspaceId: string, user: TestUser, status: 'online' | 'away' | 'offline') {
  return app.api(`/api/workspaces/${workspaceId}/presence`, {
    method: 'PUT',
    token: user.token,
    json: { status },
  });
}

describe('GET /api/workspaces/:ws/events', () => {
  it('authenticates by header or ?access_token=, wants Accept: text/event-stream, and sends keep-alives', async () => {
    const owner = await signUp(app);
    const workspaceId = await createTestWorkspace(app, owner);
    const url = `${app.url}/api/workspaces/${workspaceId}/events`;
    const anonymous = await connectSse(url);
    expect(anonymous.status).toBe(401);
    const plain = await app.api(`/api/workspaces/${workspaceId}/events`, { token: owner.token });
    expect(plain.status).toBe(400);
    const byQuery = await connectSse(url, { token: owner.token, queryToken: true });
    streams.push(byQuery);
    expect(byQuery.status).toBe(200);
    expect(byQuery.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await byQuery.waitFor(() => false, 50).catch(() => undefined);
    const deadline = Date.now() + 5000;
    while (!byQuery.comments.includes('ping') && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(byQuery.comments).toContain('ping');
    // The query token only works on the event stream.
    const elsewhere = await app.api(`/api/workspaces/${workspaceId}?access_token=${owner.token}`);
    expect(elsewhere.status).toBe(401);
  });

  it('replays what a reconnecting client missed after Last-Event-ID, and says reset when that is too old', async () => {
    const owner = await signUp(app);
    const workspaceId = await createTestWorkspace(app, owner);
    const first = await open(app, workspaceId, owner);
    await presence(workspaceId, owner, 'online');
    const seen = await first.waitFor((event) => event.event === 'presence' && event.json.status === 'online');
    first.close();
    await presence(workspaceId, owner, 'away');
    await presence(workspaceId, owner, 'offline');
    // Wait until both reached this instance's ring (a live client is the witness).
    const witness = await open(app, workspaceId, owner, { lastEventId: seen.id ?? '' });
    await witness.waitFor((event) => event.json.status === 'offline');
    witness.close();

    const again = await open(app, workspaceId, owner, { lastEventId: seen.id ?? '' });
    await again.waitFor((event) => event.json.status === 'offline');
    expect(again.events.map((event) => [event.event, event.json.status])).toEqual([
      ['presence', 'away'],
      ['presence', 'offline'],
    ]);
    const unknown = await open(app, workspaceId, owner, { lastEventId: 'no-such-event' });
    const reset = await unknown.waitFor(() => true);
    expect(reset.event).toBe('reset');
  });

  it('never sends an operator of workspace X the events of workspace Y', async () => {
    const ownerX = await signUp(app);
    const x = await createTestWorkspace(app, ownerX, 'X');
    const ownerY = await signUp(app);
    const y = await createTestWorkspace(app, ownerY, 'Y');
    const operatorX = await addMember(app, ownerX, x, 'operator');
    const streamX = await open(app, x, operatorX);
    const streamY = await open(app, y, ownerY);
    // X's operator cannot open Y's stream: Y does not exist for them.
    const foreign = await connectSse(`${app.url}/api/workspaces/${y}/events`, { token: operatorX.token });
    expect(foreign.status).toBe(404);

    const { token } = await seedTelegramBot(app.ctx, fake, { workspaceId: y, webhookBaseUrl: app.url });
    const chatId = nextChat++;
    fake.sendText(token, { chatId, from: customer(chatId), text: '/escalate' });
    const created = await streamY.waitFor((event) => event.event === 'escalation.created', 10_000);
    await streamY.waitFor((event) => event.event === 'message.created');
    await presence(y, ownerY, 'online');
    await streamY.waitFor((event) => event.event === 'presence');
    // A sentinel in X, raised after everything in Y: once X has it, X would have had Y's too.
    await presence(x, operatorX, 'online');
    await streamX.waitFor((event) => event.event === 'presence' && event.json.userId === operatorX.id);
    const foreignIds = new Set(streamY.events.map((event) => event.id));
    expect(streamX.events.filter((event) => foreignIds.has(event.id))).toEqual([]);
    expect(streamX.events.some((event) => event.json.conversationId === created.json.conversationId)).toBe(
      false,
    );
    expect(streamX.events.map((event) => event.event)).toEqual(['presence']);
  });

  it('shows viewers that a note was added but not its text', async () => {
    const owner = await signUp(app);
    const workspaceId = await createTestWorkspace(app, owner);
    const viewer = await addMember(app, owner, workspaceId, 'viewer');
    const { token, channel } = await seedTelegramBot(app.ctx, fake, { workspaceId, webhookBaseUrl: app.url });
    const viewerStream = await open(app, workspaceId, viewer);
    const ownerStream = await open(app, workspaceId, owner);
    const chatId = nextChat++;
    fake.sendText(token, { chatId, from: customer(chatId), text: '/escalate' });
    const created = await ownerStream.waitFor((event) => event.event === 'escalation.created', 10_000);
    expect(created.json.channelId).toBe(channel.id);
    const note = await app.api(
      `/api/workspaces/${workspaceId}/escalations/${created.json.escalationId}/notes`,
      {
        method: 'POST',
        token: owner.token,
        json: { body: 'Customer is a reseller' },
      },
    );
    expect(note.status).toBe(201);
    const full = await ownerStream.waitFor((event) => event.event === 'escalation.note');
    const redacted = await viewerStream.waitFor((event) => event.event === 'escalation.note');
    expect(full.json.body).toBe('Customer is a reseller');
    expect(redacted.json.body).toBeUndefined();
    expect(redacted.json.noteId).toBe(note.json.id);
  });
});

describe('back-pressure and shutdown', () => {
  it('drops a client that stops reading instead of buffering for it, and ends streams on close', async () => {
    const small = await startTestApp({ env: { SSE_MAX_BUFFER_BYTES: '65536' } });
    try {
      const owner = await signUp(small);
      const workspaceId = await createTestWorkspace(small, owner);
      const reader = await open(small, workspaceId, owner);
      // A client that never reads: a raw socket, paused.
      const { port } = new URL(small.url);
      const socket = connect(Number(port), '127.0.0.1');
      socket.pause();
      socket.write(
        `GET /api/workspaces/${workspaceId}/events HTTP/1.1\r\nhost: x\r\naccept: text/event-stream\r\nauthorization: Bearer ${owner.token}\r\n\r\n`,
      );
      const gauge = () => small.ctx.metrics.registry.getSingleMetric('switchboard_sse_clients')?.get();
      const dropped = async () =>
        (await small.ctx.metrics.registry.getSingleMetric('switchboard_sse_dropped_total')?.get())?.values[0]
          ?.value ?? 0;
      const deadline = Date.now() + 10_000;
      while (((await gauge())?.values[0]?.value ?? 0) < 2 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await gauge())?.values[0]?.value).toBe(2);

      // Far more than the socket buffers of the loopback hold, in 64 KiB events.
      const blob = 'x'.repeat(64 * 1024);
      let published = 0;
      while ((await dropped()) === 0 && published < 2000) {
        await small.ctx.events.publish({ workspaceId, type: 'presence', data: { blob, n: published } });
        published += 1;
        if (published % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(await dropped()).toBe(1);
      // The reading client is still there and got everything.
      await reader.waitFor((event) => event.json.n === published - 1, 20_000);
      expect((await gauge())?.values[0]?.value).toBe(1);
      socket.destroy();

      // Graceful shutdown ends the open streams instead of waiting for them.
      await small.close();
      await reader.ended;
    } finally {
      await small.close().catch(() => undefined);
    }
  }, 60_000);
});

const scaled = Boolean(process.env.TEST_DATABASE_URL && process.env.TEST_REDIS_URL);

describe.runIf(scaled)('two instances on PostgreSQL + Redis', () => {
  it('delivers an escalation raised by a webhook on instance B to an operator connected to instance A', async () => {
    const b = await startTestApp({ env: { TELEGRAM_API_ROOT: fake.url }, shareWith: app });
    try {
      const owner = await signUp(app);
      const workspaceId = await createTestWorkspace(app, owner);
      const operator = await addMember(app, owner, workspaceId, 'operator');
      const { channel, secret } = await seedTelegramBot(app.ctx, fake, { workspaceId });
      const onA = await open(app, workspaceId, operator);
      const chatId = nextChat++;
      const hook = await b.api(`/hooks/telegram/${channel.id}`, {
        method: 'POST',
        headers: { 'x-telegram-bot-api-secret-token': secret },
        json: {
          update_id: 1,
          message: {
            message_id: 1,
            date: Math.floor(Date.now() / 1000),
            chat: { id: chatId, type: 'private', first_name: 'Cy' },
            from: { id: chatId, is_bot: false, first_name: 'Cy' },
            text: '/escalate',
          },
        },
      });
      expect(hook.status).toBe(200);
      const created = await onA.waitFor((event) => event.event === 'escalation.created', 15_000);
      expect(created.json).toMatchObject({ status: 'pending', source: 'command', channelId: channel.id });
    } finally {
      await b.close();
    }
  }, 60_000);
});
