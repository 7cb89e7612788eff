import { like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FakeTelegram } from '../../../testkit/src/fake-telegram.ts';
import { startTestApp, type TestApp } from '../../../testkit/src/start-app.ts';
import { seedTelegramBot } from '../../../testkit/src/telegram-bot.ts';
import { addMember, createTestWorkspace, signUp, type TestUser } from '../../../testkit/src/users.ts';
import { outbox } from '../../pipeline/schema.ts';
import { runBroadcast } from './service.ts';

let fake: FakeTelegram;
let app: TestApp;

beforeAll(async () => {
  fake = await FakeTelegram.start({ webhookRetryBaseMs: 20 });
  app = await startTestApp({ env: { TELEGRAM_API_ROOT: fake.url } });
});
afterAll(async () => {
  await app?.close();
  await fake?.close();
});

const GREETING = 'Welcome to the shop!';

/** A workspace with a bot whose Telegram channel is registered with the fake in webhook mode. */
async function connectBot() {
  const owner = await signUp(app);
  const workspaceId = await createTestWorkspace(app, owner);
  const seeded = await seedTelegramBot(app.ctx, fake, {
    workspaceId,
    webhookBaseUrl: app.url,
    config: { language: 'en', greeting: { en: GREETING } },
  });
  return { owner, workspaceId, ...seeded };
}

const customer = (id: number, firstName = 'Ann') => ({
  id,
  first_name: firstName,
  username: `${firstName.toLowerCase()}${id}`,
  language_code: 'en',
});

/** Customers write /start (optionally with a referral) and get the greeting back. */
async function customersWrite(token: string, people: Array<{ id: number; name: string; ref?: string }>) {
  for (const person of people)
    fake.sendText(token, {
      chatId: person.id,
      from: customer(person.id, person.name),
      text: person.ref ? `/start ${person.ref}` : '/start',
    });
  await fake.waitFor(
    () => people.every((person) => fake.sentMessages(token, person.id).some((m) => m.text === GREETING)),
    15_000,
  );
}

const pageSchema = z.object({
  items: z.array(z.looseObject({ id: z.string() })),
  nextCursor: z.string().nullable(),
});

/** Every item of a paginated listing, one page of `limit` at a time. */
async function walk(user: TestUser, path: string, limit: number, cursorParam = 'cursor') {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const response = await app.api(
      `${path}${separator}limit=${limit}${cursor ? `&${cursorParam}=${encodeURIComponent(cursor)}` : ''}`,
      { token: user.token },
    );
    expect(response.status).toBe(200);
    const page = pageSchema.parse(response.body);
    expect(page.items.length).toBeLessThanOrEqual(limit);
    ids.push(...page.items.map((item) => item.id));
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor && pages < 50);
  return ids;
}

async function waitUntil(predicate: () => Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('condition not met in time');
}

describe('contacts and conversations', () => {
  let setup: Awaited<ReturnType<typeof connectBot>>;
  const people = [
    { id: 1001, name: 'Ann' },
    { id: 1002, name: 'Boris', ref: 'ref_summer' },
    { id: 1003, name: 'Carla' },
    { id: 1004, name: 'Dmitri', ref: 'ref_summer' },
    { id: 1005, name: 'Annette' },
  ];

  beforeAll(async () => {
    setup = await connectBot();
    await customersWrite(setup.token, people);
  });

  it('lists contacts newest first and walks every page without duplicates', async () => {
    const base = `/api/workspaces/${setup.workspaceId}/contacts`;
    const ids = await walk(setup.owner, base, 2);
    expect(ids).toHaveLength(5);
    expect(new Set(ids).size).toBe(5);
    const all = await app.api(`${base}?limit=50`, { token: setup.owner.token });
    const items = z.array(z.looseObject({ lastSeenAt: z.string() })).parse(all.json.items);
    const seen = items.map((item) => Date.parse(item.lastSeenAt));
    expect(seen).toEqual([...seen].sort((a, b) => b - a));
  });

  it('filters contacts by text, referrer, status, channel and bot', async () => {
    const base = `/api/workspaces/${setup.workspaceId}/contacts`;
    const count = async (query: string) => {
      const response = await app.api(`${base}?${query}`, { token: setup.owner.token });
      expect(response.status).toBe(200);
      return pageSchema.parse(response.body).items.length;
    };
    expect(await count('q=ANN')).toBe(2);
    expect(await count('q=1003')).toBe(1);
    expect(await count('q=%25')).toBe(0);
    expect(await count('referrer=summer')).toBe(2);
    expect(await count('status=active')).toBe(5);
    expect(await count('status=blocked')).toBe(0);
    expect(await count(`channelId=${setup.channel.id}`)).toBe(5);
    expect(await count(`botId=${setup.bot.id}`)).toBe(5);
    expect(await count(`botId=${crypto.randomUUID()}`)).toBe(0);
  });

  it('shows a contact profile', async () => {
    const list = await app.api(`/api/workspaces/${setup.workspaceId}/contacts?q=boris`, {
      token: setup.owner.token,
    });
    const [item] = pageSchema.parse(list.body).items;
    const response = await app.api(`/api/workspaces/${setup.workspaceId}/contacts/${item?.id}`, {
      token: setup.owner.token,
    });
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({
      channelId: setup.channel.id,
      botId: setup.bot.id,
      externalId: '1002',
      username: 'boris1002',
      firstName: 'Boris',
      languageCode: 'en',
      referrer: 'summer',
      status: 'active',
      messageCount: 1,
    });
  });

  it('lists conversations with filters and pagination, and their messages newest first', async () => {
    const base = `/api/workspaces/${setup.workspaceId}/conversations`;
    const ids = await walk(setup.owner, base, 2);
    expect(ids).toHaveLength(5);
    expect(new Set(ids).size).toBe(5);
    const byName = await app.api(`${base}?q=carla`, { token: setup.owner.token });
    const [carla] = pageSchema.parse(byName.body).items;
    expect(carla).toMatchObject({ chatId: '1003', mode: 'bot', contact: { firstName: 'Carla' } });
    const byText = await app.api(`${base}?q=${encodeURIComponent('/start ref_summer')}`, {
      token: setup.owner.token,
    });
    expect(pageSchema.parse(byText.body).items).toHaveLength(2);
    const human = await app.api(`${base}?mode=human&botId=${setup.bot.id}`, { token: setup.owner.token });
    expect(pageSchema.parse(human.body).items).toHaveLength(0);

    const one = await app.api(`${base}/${carla?.id}`, { token: setup.owner.token });
    expect(one.status).toBe(200);
    expect(one.json.id).toBe(carla?.id);

    const messagesPath = `${base}/${carla?.id}/messages`;
    await waitUntil(async () => {
      const response = await app.api(messagesPath, { token: setup.owner.token });
      const items = z.array(z.looseObject({ status: z.string() })).parse(response.json.items);
      return items.length === 2 && items.every((item) => item.status !== 'queued');
    });
    const messageIds = await walk(setup.owner, messagesPath, 1, 'before');
    expect(messageIds).toHaveLength(2);
    const response = await app.api(messagesPath, { token: setup.owner.token });
    expect(response.json.items).toMatchObject([
      { direction: 'out', type: 'text', text: GREETING, sender: 'bot', status: 'sent' },
      { direction: 'in', type: 'text', text: '/start', sender: 'customer', status: 'received' },
    ]);
  });
});

describe('POST /contacts/:contactId/messages', () => {
  it('sends as the bot for an operator, refuses viewers, and answers 409 once blocked', async () => {
    const { owner, token, workspaceId } = await connectBot();
    await customersWrite(token, [{ id: 2001, name: 'Eva' }]);
    const operator = await addMember(app, owner, workspaceId, 'operator');
    const viewer = await addMember(app, owner, workspaceId, 'viewer');
    const list = await app.api(`/api/workspaces/${workspaceId}/contacts`, { token: owner.token });
    const contactId = pageSchema.parse(list.body).items[0]?.id;
    const path = `/api/workspaces/${workspaceId}/contacts/${contactId}/messages`;

    const sent = await app.api(path, {
      method: 'POST',
      token: operator.token,
      json: { text: 'Hello from us' },
    });
    expect(sent.status).toBe(201);
    expect(sent.json).toMatchObject({
      direction: 'out',
      text: 'Hello from us',
      sender: 'operator',
      senderUserId: operator.id,
      status: 'queued',
    });
    await fake.waitFor(() => fake.sentMessages(token, 2001).some((m) => m.text === 'Hello from us'));

    const denied = await app.api(path, { method: 'POST', token: viewer.token, json: { text: 'nope' } });
    expect(denied.status).toBe(403);
    const viewerBlock = await app.api(`/api/workspaces/${workspaceId}/contacts/${contactId}/block`, {
      method: 'POST',
      token: viewer.token,
    });
    expect(viewerBlock.status).toBe(403);

    const blocked = await app.api(`/api/workspaces/${workspaceId}/contacts/${contactId}/block`, {
      method: 'POST',
      token: operator.token,
    });
    expect(blocked.status).toBe(200);
    expect(blocked.json.status).toBe('blocked');
    const refused = await app.api(path, { method: 'POST', token: operator.token, json: { text: 'again' } });
    expect(refused.status).toBe(409);

    const unblocked = await app.api(`/api/workspaces/${workspaceId}/contacts/${contactId}/unblock`, {
      method: 'POST',
      token: operator.token,
    });
    expect(unblocked.json.status).toBe('active');
    const audit = await app.api(`/api/workspaces/${workspaceId}/audit?targetType=contact`, {
      token: owner.token,
    });
    const actions = z.array(z.looseObject({ action: z.string() })).parse(audit.json.items);
    expect(actions.map((entry) => entry.action)).toEqual([
      'contact.unblock',
      'contact.block',
      'contact.message',
    ]);
  });
});

describe('broadcasts', () => {
  it('reaches every active contact once, reports progress, and a re-run sends nothing more', async () => {
    const { owner, token, workspaceId, channel } = await connectBot();
    const people = Array.from({ length: 12 }, (_, i) => ({ id: 3001 + i, name: `Guest${i}` }));
    await customersWrite(token, people);
    const text = 'Spring sale: -20% today';

    const operator = await addMember(app, owner, workspaceId, 'operator');
    const forbidden = await app.api(`/api/workspaces/${workspaceId}/broadcasts`, {
      method: 'POST',
      token: operator.token,
      json: { channelId: channel.id, text },
    });
    expect(forbidden.status).toBe(403);

    const created = await app.api(`/api/workspaces/${workspaceId}/broadcasts`, {
      method: 'POST',
      token: owner.token,
      json: { channelId: channel.id, text, filter: { language: 'en' } },
    });
    expect(created.status).toBe(202);
    const broadcastId = String(created.json.id);
    const receivers = () =>
      people.map((person) => fake.sentMessages(token, person.id).filter((m) => m.text === text).length);
    await fake.waitFor(() => receivers().every((n) => n === 1), 20_000);

    const path = `/api/workspaces/${workspaceId}/broadcasts/${broadcastId}`;
    await waitUntil(async () => {
      const response = await app.api(path, { token: owner.token });
      return response.json.status === 'done' && JSON.stringify(response.json.progress).includes('"sent":12');
    });
    const done = await app.api(path, { token: owner.token });
    expect(done.json).toMatchObject({
      status: 'done',
      total: 12,
      queued: 12,
      progress: { sent: 12, failed: 0, pending: 0, unknown: 0 },
    });

    await runBroadcast(app.ctx, broadcastId);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receivers()).toEqual(people.map(() => 1));
    const rows = await app.ctx.db
      .select({ id: outbox.id })
      .from(outbox)
      .where(like(outbox.idempotencyKey, `b${broadcastId}:%`));
    expect(rows).toHaveLength(12);

    const list = await app.api(`/api/workspaces/${workspaceId}/broadcasts`, { token: owner.token });
    expect(list.json.items).toMatchObject([{ id: broadcastId, progress: { sent: 12 } }]);
  });

  it('cancels: the undelivered messages fail as cancelled', async () => {
    const { owner, workspaceId, channel, token } = await connectBot();
    await customersWrite(token, [{ id: 4001, name: 'Zoe' }]);
    const created = await app.api(`/api/workspaces/${workspaceId}/broadcasts`, {
      method: 'POST',
      token: owner.token,
      json: { channelId: channel.id, text: 'never mind' },
    });
    const cancelled = await app.api(`/api/workspaces/${workspaceId}/broadcasts/${created.json.id}/cancel`, {
      method: 'POST',
      token: owner.token,
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json.status).toBe('cancelled');
    const settled = async () => {
      const rows = await app.ctx.db
        .select({ status: outbox.status, error: outbox.error })
        .from(outbox)
        .where(like(outbox.idempotencyKey, `b${String(created.json.id)}:%`));
      return rows.some((row) => row.status === 'sending') ? undefined : rows;
    };
    let rows = await settled();
    for (let tries = 0; !rows && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      rows = await settled();
    }
    if (!rows) throw new Error('a broadcast message stayed in flight');
    // Cancelled right away: whatever had not gone out yet fails as cancelled, nothing stays pending.
    for (const row of rows)
      expect(row.status === 'sent' || (row.status === 'failed' && row.error === 'cancelled')).toBe(true);
  });
});

describe('workspace isolation', () => {
  it("answers 404 for another workspace's contacts, conversations, messages and broadcasts", async () => {
    const { owner, token, workspaceId, channel } = await connectBot();
    await customersWrite(token, [{ id: 5001, name: 'Ivan' }]);
    const contacts = await app.api(`/api/workspaces/${workspaceId}/contacts`, { token: owner.token });
    const contactId = pageSchema.parse(contacts.body).items[0]?.id;
    const conversations = await app.api(`/api/workspaces/${workspaceId}/conversations`, {
      token: owner.token,
    });
    const conversationId = pageSchema.parse(conversations.body).items[0]?.id;
    const broadcast = await app.api(`/api/workspaces/${workspaceId}/broadcasts`, {
      method: 'POST',
      token: owner.token,
      json: { channelId: channel.id, text: 'hi all' },
    });
    const broadcastId = String(broadcast.json.id);

    const stranger = await signUp(app);
    const other = await createTestWorkspace(app, stranger, 'Other');
    const base = `/api/workspaces/${other}`;
    const requests: Array<[string, string, unknown?]> = [
      ['GET', `${base}/contacts/${contactId}`],
      ['POST', `${base}/contacts/${contactId}/block`],
      ['POST', `${base}/contacts/${contactId}/messages`, { text: 'hi' }],
      ['GET', `${base}/conversations/${conversationId}`],
      ['GET', `${base}/conversations/${conversationId}/messages`],
      ['GET', `${base}/broadcasts/${broadcastId}`],
      ['POST', `${base}/broadcasts/${broadcastId}/cancel`],
      ['POST', `${base}/broadcasts`, { channelId: channel.id, text: 'steal' }],
    ];
    for (const [method, path, json] of requests) {
      const response = await app.api(path, { method, token: stranger.token, json });
      expect(response.status, `${method} ${path}`).toBe(404);
    }
    for (const list of ['contacts', 'conversations', 'broadcasts']) {
      const response = await app.api(`${base}/${list}`, { token: stranger.token });
      expect(pageSchema.parse(response.body).items).toEqual([]);
    }
  });
});
