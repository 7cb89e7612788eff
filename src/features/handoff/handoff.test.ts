import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTelegram } from '../../../testkit/src/fake-telegram.ts';
import { connectSse, type SseClient } from '../../../testkit/src/sse-client.ts';
import { startTestApp, type TestApp } from '../../../testkit/src/start-app.ts';
import { seedTelegramBot } from '../../../testkit/src/telegram-bot.ts';
import { addMember, createTestWorkspace, signUp, type TestUser } from '../../../testkit/src/users.ts';
import { inboxUpdates } from '../../pipeline/schema.ts';
import { analyticsEvents } from '../analytics/schema.ts';
import { auditLog } from '../audit/schema.ts';
import type { BotConfigInput } from '../bots/bot-config.ts';
import { conversations } from '../conversations/schema.ts';
import { escalations } from '../escalations/schema.ts';

let fake: FakeTelegram;
let app: TestApp;
const streams: SseClient[] = [];

beforeAll(async () => {
  fake = await FakeTelegram.start({ webhookRetryBaseMs: 20 });
  app = await startTestApp({ env: { TELEGRAM_API_ROOT: fake.url, PUBLIC_URL: 'https://panel.example.com' } });
});
afterAll(async () => {
  for (const stream of streams) stream.close();
  await app?.close();
  await fake?.close();
});

const customer = (id: number) => ({ id, first_name: 'Ann', username: `ann${id}`, language_code: 'en' });
let nextChat = 5000;

/** A workspace with a bot on the fake Telegram, its owner and an operator. */
async function setup(config: BotConfigInput = {}) {
  const owner = await signUp(app);
  const workspaceId = await createTestWorkspace(app, owner);
  const operator = await addMember(app, owner, workspaceId, 'operator');
  const bot = await seedTelegramBot(app.ctx, fake, {
    workspaceId,
    webhookBaseUrl: app.url,
    config: { language: 'en', throttle: { perSecond: 100, burst: 100 }, ...config },
  });
  return { owner, operator, workspaceId, ...bot };
}

async function stream(workspaceId: string, user: TestUser) {
  const client = await connectSse(`${app.url}/api/workspaces/${workspaceId}/events`, { token: user.token });
  streams.push(client);
  expect(client.status).toBe(200);
  return client;
}

async function online(workspaceId: string, user: TestUser) {
  const response = await app.api(`/api/workspaces/${workspaceId}/presence`, {
    method: 'PUT',
    token: user.token,
    json: { status: 'online' },
  });
  expect(response.status).toBe(200);
}

async function waitUntil(predicate: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('condition not met in time');
}

async function processed(channelId: string, updateId: number) {
  await waitUntil(async () => {
    const [row] = await app.ctx.db
      .select({ processedAt: inboxUpdates.processedAt })
      .from(inboxUpdates)
      .where(and(eq(inboxUpdates.channelId, channelId), eq(inboxUpdates.updateId, updateId)));
    return Boolean(row?.processedAt);
  });
}

async function conversationOf(channelId: string, chatId: number) {
  const [row] = await app.ctx.db
    .select()
    .from(conversations)
    .where(and(eq(conversations.channelId, channelId), eq(conversations.chatId, String(chatId))));
  if (!row) throw new Error('no conversation');
  return row;
}

describe('escalation and live handoff end to end through the fake Telegram API', () => {
  it('escalates on /escalate, streams it to the operator, who takes over, replies, and resolves; the bot answers again', async () => {
    const { workspaceId, operator, owner, token, channel } = await setup();
    const chatId = nextChat++;
    const events = await stream(workspaceId, operator);
    await online(workspaceId, operator);

    // 1. The customer asks for a person: escalation pending, the bot says so once.
    fake.sendText(token, { chatId, from: customer(chatId), text: 'Where is my order #42?' });
    await fake.waitFor(() => fake.sentMessages(token, chatId).length === 1);
    fake.sendText(token, { chatId, from: customer(chatId), text: '/escalate' });
    const created = await events.waitFor((event) => event.event === 'escalation.created', 10_000);
    expect(created.id).toBeTruthy();
    expect(created.json).toMatchObject({ status: 'pending', source: 'command', action: 'transfer' });
    const escalationId = String(created.json.escalationId);
    const conversationId = String(created.json.conversationId);
    await fake.waitFor(() => fake.sentMessages(token, chatId).length === 2);

    const listed = await app.api(`/api/workspaces/${workspaceId}/escalations?status=pending`, {
      token: operator.token,
    });
    expect(listed.status).toBe(200);
    const [item] = listed.json.items as Array<Record<string, unknown>>;
    expect(item).toMatchObject({
      id: escalationId,
      status: 'pending',
      reason: 'customer asked for a person',
      conversation: { id: conversationId, mode: 'waiting', holderId: null },
    });
    const snapshot = item?.snapshot as Array<{ text: string }>;
    expect(snapshot.map((message) => message.text)).toContain('Where is my order #42?');

    // 2. The operator takes over and replies; the customer gets both through Telegram.
    const takeover = await app.api(
      `/api/workspaces/${workspaceId}/conversations/${conversationId}/takeover`,
      {
        method: 'POST',
        token: operator.token,
      },
    );
    expect(takeover.status).toBe(200);
    expect(takeover.json).toMatchObject({ mode: 'human', holderId: operator.id });
    await events.waitFor((event) => event.event === 'conversation.mode' && event.json.mode === 'human');
    const reply = await app.api(`/api/workspaces/${workspaceId}/conversations/${conversationId}/messages`, {
      method: 'POST',
      token: operator.token,
      json: { text: 'Hi Ann, I am checking order #42 now.' },
    });
    expect(reply.status).toBe(201);
    expect(reply.json).toMatchObject({ sender: 'operator', senderUserId: operator.id, direction: 'out' });
    await fake.waitFor(() =>
      fake
        .sentMessages(token, chatId)
        .some((message) => message.text === 'Hi Ann, I am checking order #42 now.'),
    );
    expect(fake.sentMessages(token, chatId).map((message) => message.text)).toContain(
      'A manager has joined the conversation and will answer you here.',
    );
    await events.waitFor(
      (event) =>
        event.event === 'message.status' &&
        event.json.messageId === reply.json.id &&
        event.json.status === 'sent',
    );

    // 3. The bot stays silent on the customer's next message; the operator sees it live.
    const before = fake.sentMessages(token, chatId).length;
    const next = fake.sendText(token, { chatId, from: customer(chatId), text: 'Thanks, waiting' });
    await events.waitFor(
      (event) =>
        event.event === 'message.created' &&
        event.json.direction === 'in' &&
        event.json.text === 'Thanks, waiting',
    );
    await processed(channel.id, next.update_id);
    expect(fake.sentMessages(token, chatId)).toHaveLength(before);

    // 4. Resolve: the customer is told, the escalation is closed, the bot answers again.
    const resolved = await app.api(`/api/workspaces/${workspaceId}/conversations/${conversationId}/resolve`, {
      method: 'POST',
      token: operator.token,
    });
    expect(resolved.status, JSON.stringify(resolved.body)).toBe(200);
    expect(resolved.json).toMatchObject({ mode: 'bot', holderId: null, escalation: null });
    await fake.waitFor(() =>
      fake
        .sentMessages(token, chatId)
        .some((message) => message.text?.startsWith('Your request has been resolved')),
    );
    const afterResolve = fake.sentMessages(token, chatId).length;
    fake.sendText(token, { chatId, from: customer(chatId), text: '/help' });
    await fake.waitFor(() => fake.sentMessages(token, chatId).length === afterResolve + 1);

    const got = await app.api(`/api/workspaces/${workspaceId}/escalations/${escalationId}`, {
      token: owner.token,
    });
    expect(got.json).toMatchObject({ status: 'resolved', assigneeId: operator.id });
    expect(got.json.firstResponseAt).toBeTruthy();
    expect(got.json.resolvedAt).toBeTruthy();

    await app.ctx.analytics.flush();
    const tracked = await app.ctx.db
      .select({ type: analyticsEvents.type, data: analyticsEvents.data })
      .from(analyticsEvents)
      .where(eq(analyticsEvents.channelId, channel.id));
    const types = tracked.map((event) => event.type);
    expect(types.filter((type) => type === 'escalation_created')).toHaveLength(1);
    expect(tracked.find((event) => event.type === 'handoff_started')?.data).toMatchObject({ escalationId });
    expect(tracked.find((event) => event.type === 'escalation_resolved')?.data).toMatchObject({
      escalationId,
    });

    const audit = await app.ctx.db
      .select({ action: auditLog.action })
      .from(auditLog)
      .where(eq(auditLog.workspaceId, workspaceId));
    const actions = audit.map((row) => row.action);
    for (const action of [
      'conversation.takeover',
      'conversation.message',
      'conversation.resolve',
      'escalation.status',
      'escalation.assign',
      'escalation.resolve',
    ])
      expect(actions).toContain(action);
  });

  it('raises one escalation per conversation while it is open, whatever the number of requests', async () => {
    const { workspaceId, owner, token, channel } = await setup({ escalationAction: 'notify' });
    const chatId = nextChat++;
    for (const text of ['/escalate', 'I want a manager', '/escalate'])
      fake.sendText(token, { chatId, from: customer(chatId), text });
    await fake.waitFor(() => fake.sentMessages(token, chatId).length === 3);
    const rows = await app.ctx.db.select().from(escalations).where(eq(escalations.channelId, channel.id));
    expect(rows).toHaveLength(1);
    const conversation = await conversationOf(channel.id, chatId);
    const again = await app.api(`/api/workspaces/${workspaceId}/conversations/${conversation.id}/escalate`, {
      method: 'POST',
      token: owner.token,
      json: { reason: 'VIP customer' },
    });
    expect(again.status).toBe(200);
    expect(again.json.id).toBe(rows[0]?.id);
    // Once closed, a new one may be raised.
    const cancel = await app.api(`/api/workspaces/${workspaceId}/escalations/${rows[0]?.id}`, {
      method: 'PATCH',
      token: owner.token,
      json: { status: 'cancelled' },
    });
    expect(cancel.status).toBe(200);
    const fresh = await app.api(`/api/workspaces/${workspaceId}/conversations/${conversation.id}/escalate`, {
      method: 'POST',
      token: owner.token,
      json: { reason: 'VIP customer', priority: 'high' },
    });
    expect(fresh.status).toBe(201);
    expect(fresh.json).toMatchObject({
      source: 'operator',
      priority: 'high',
      status: 'pending',
      createdBy: owner.id,
    });
  });

  it('notify keeps the bot answering and tells the team chat; transfer silences the bot; log_only tells nobody', async () => {
    const teamChat = -100_777;
    for (const action of ['notify', 'transfer', 'log_only'] as const) {
      const { workspaceId, owner, token, channel } = await setup({ escalationAction: action });
      fake.addChat(token, { id: teamChat, type: 'supergroup', title: 'Operators' });
      const settings = await app.api(`/api/workspaces/${workspaceId}/settings/escalations`, {
        method: 'PUT',
        token: owner.token,
        json: { notifyTelegramChatId: String(teamChat), notifyChannelId: channel.id, slaMinutes: 15 },
      });
      expect(settings.status).toBe(200);
      const chatId = nextChat++;
      fake.sendText(token, { chatId, from: customer(chatId), text: '/escalate' });
      await fake.waitFor(() => fake.sentMessages(token, chatId).length === 1);
      const conversation = await conversationOf(channel.id, chatId);
      const [escalation] = await app.ctx.db
        .select()
        .from(escalations)
        .where(eq(escalations.conversationId, conversation.id));
      expect(escalation).toMatchObject({ action, status: 'pending' });
      expect((escalation?.slaDueAt.getTime() ?? 0) - (escalation?.createdAt.getTime() ?? 0)).toBe(
        15 * 60_000,
      );
      expect(conversation.mode).toBe(action === 'transfer' ? 'waiting' : 'bot');

      const next = fake.sendText(token, { chatId, from: customer(chatId), text: '/help' });
      await processed(channel.id, next.update_id);
      if (action === 'transfer') {
        expect(fake.sentMessages(token, chatId)).toHaveLength(1);
      } else {
        await fake.waitFor(() => fake.sentMessages(token, chatId).length === 2);
      }
      if (action === 'log_only') {
        await waitUntil(async () => {
          const [row] = await app.ctx.db
            .select()
            .from(escalations)
            .where(eq(escalations.id, escalation?.id ?? ''));
          return row?.notifiedAt !== null;
        });
        expect(fake.sentMessages(token, teamChat)).toHaveLength(0);
      } else {
        const [note] = await fake.waitFor(() => {
          const sent = fake.sentMessages(token, teamChat);
          return sent.length > 0 ? sent : undefined;
        });
        expect(note?.text).toContain('New escalation');
        expect(note?.text).toContain(`https://panel.example.com/inbox/${conversation.id}`);
      }
    }
  });
});

describe('POST /api/workspaces/:ws/conversations/:id/takeover', () => {
  it('refuses an operator who is offline or at capacity with 409, and a second operator while one holds it', async () => {
    const { workspaceId, owner, operator, token, channel } = await setup();
    const second = await addMember(app, owner, workspaceId, 'operator');
    const chats = [nextChat++, nextChat++];
    for (const chatId of chats) fake.sendText(token, { chatId, from: customer(chatId), text: '/escalate' });
    for (const chatId of chats) await fake.waitFor(() => fake.sentMessages(token, chatId).length === 1);
    const [first, other] = await Promise.all(chats.map((chatId) => conversationOf(channel.id, chatId)));
    const takeover = (user: TestUser, conversationId: string) =>
      app.api(`/api/workspaces/${workspaceId}/conversations/${conversationId}/takeover`, {
        method: 'POST',
        token: user.token,
      });

    const offline = await takeover(operator, first?.id ?? '');
    expect(offline.status).toBe(409);
    expect(offline.json.error).toMatchObject({ details: { reason: 'not_online' } });

    await online(workspaceId, operator);
    const capacity = await app.api(`/api/workspaces/${workspaceId}/operators/${operator.id}`, {
      method: 'PUT',
      token: owner.token,
      json: { maxChats: 1 },
    });
    expect(capacity.json).toMatchObject({ maxChats: 1, status: 'online', activeChats: 0 });
    expect((await takeover(operator, first?.id ?? '')).status).toBe(200);
    // Again: a no-op for the holder.
    expect((await takeover(operator, first?.id ?? '')).status).toBe(200);
    const full = await takeover(operator, other?.id ?? '');
    expect(full.status).toBe(409);
    expect(full.json.error).toMatchObject({
      details: { reason: 'at_capacity', activeChats: 1, maxChats: 1 },
    });

    await online(workspaceId, second);
    const held = await takeover(second, first?.id ?? '');
    expect(held.status).toBe(409);
    expect(held.json.error).toMatchObject({ details: { reason: 'held', holderId: operator.id } });
    // Nor may the second operator write into a conversation someone else holds.
    const write = await app.api(`/api/workspaces/${workspaceId}/conversations/${first?.id}/messages`, {
      method: 'POST',
      token: second.token,
      json: { text: 'hello' },
    });
    expect(write.status).toBe(409);

    const presence = await app.api(`/api/workspaces/${workspaceId}/presence`, { token: owner.token });
    const mine = (presence.json.items as Array<Record<string, unknown>>).find(
      (row) => row.userId === operator.id,
    );
    expect(mine).toMatchObject({ status: 'online', activeChats: 1, maxChats: 1 });
  });
});

describe('release, photos and canned responses', () => {
  it('releases with a closing message, sends photos and canned texts, and keeps the escalation open until resolved', async () => {
    const { workspaceId, owner, operator, token, channel } = await setup();
    const chatId = nextChat++;
    fake.sendText(token, { chatId, from: customer(chatId), text: '/escalate' });
    await fake.waitFor(() => fake.sentMessages(token, chatId).length === 1);
    const conversation = await conversationOf(channel.id, chatId);
    const base = `/api/workspaces/${workspaceId}/conversations/${conversation.id}`;
    await online(workspaceId, operator);
    expect((await app.api(`${base}/takeover`, { method: 'POST', token: operator.token })).status).toBe(200);

    const canned = await app.api(`/api/workspaces/${workspaceId}/canned-responses`, {
      method: 'POST',
      token: owner.token,
      json: { shortcut: 'hours', text: 'We are open 9–18, Monday to Friday.' },
    });
    expect(canned.status).toBe(201);
    const duplicate = await app.api(`/api/workspaces/${workspaceId}/canned-responses`, {
      method: 'POST',
      token: owner.token,
      json: { shortcut: 'hours', text: 'x' },
    });
    expect(duplicate.status).toBe(409);
    const byCanned = await app.api(`${base}/messages`, {
      method: 'POST',
      token: operator.token,
      json: { cannedResponseId: canned.json.id, clientMessageId: 'c-1' },
    });
    expect(byCanned.status).toBe(201);
    // The same clientMessageId again sends nothing new.
    const retried = await app.api(`${base}/messages`, {
      method: 'POST',
      token: operator.token,
      json: { cannedResponseId: canned.json.id, clientMessageId: 'c-1' },
    });
    expect(retried.json.id).toBe(byCanned.json.id);
    const photo = await app.api(`${base}/messages`, {
      method: 'POST',
      token: operator.token,
      json: { photoUrl: 'https://example.com/sofa.jpg', caption: 'This one?' },
    });
    expect(photo.status).toBe(201);
    expect(photo.json).toMatchObject({ type: 'photo', text: 'This one?' });
    const both = await app.api(`${base}/messages`, {
      method: 'POST',
      token: operator.token,
      json: { text: 'a', cannedResponseId: canned.json.id },
    });
    expect(both.status).toBe(400);

    const released = await app.api(`${base}/release`, {
      method: 'POST',
      token: operator.token,
      json: { message: 'Talk soon!' },
    });
    expect(released.status).toBe(200);
    expect(released.json).toMatchObject({
      mode: 'bot',
      holderId: null,
      escalation: { status: 'in_progress' },
    });
    await fake.waitFor(() =>
      fake.sentMessages(token, chatId).some((message) => message.text === 'Talk soon!'),
    );
    const texts = fake.sentMessages(token, chatId).map((message) => message.text ?? message.caption);
    expect(texts).toContain('We are open 9–18, Monday to Friday.');
    expect(texts).toContain('This one?');
    expect(texts.filter((text) => text === 'We are open 9–18, Monday to Friday.')).toHaveLength(1);

    // Resolving through the escalations API closes it too.
    const escalationId = (released.json.escalation as { id: string }).id;
    const patched = await app.api(`/api/workspaces/${workspaceId}/escalations/${escalationId}`, {
      method: 'PATCH',
      token: operator.token,
      json: { status: 'resolved' },
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ status: 'resolved' });
    // Canned responses: renamed, listed, deleted (admins only).
    const cannedPath = `/api/workspaces/${workspaceId}/canned-responses/${canned.json.id}`;
    expect((await app.api(cannedPath, { method: 'DELETE', token: operator.token })).status).toBe(403);
    const renamed = await app.api(cannedPath, {
      method: 'PATCH',
      token: owner.token,
      json: { shortcut: 'open' },
    });
    expect(renamed.json).toMatchObject({ shortcut: 'open', text: 'We are open 9–18, Monday to Friday.' });
    const listedCanned = await app.api(`/api/workspaces/${workspaceId}/canned-responses`, {
      token: operator.token,
    });
    expect(listedCanned.json.items).toMatchObject([{ shortcut: 'open' }]);
    expect((await app.api(cannedPath, { method: 'DELETE', token: owner.token })).status).toBe(204);
    expect(
      (await app.api(cannedPath, { method: 'PATCH', token: owner.token, json: { text: 'x' } })).status,
    ).toBe(404);

    const reopen = await app.api(`/api/workspaces/${workspaceId}/escalations/${escalationId}`, {
      method: 'PATCH',
      token: operator.token,
      json: { status: 'pending' },
    });
    expect(reopen.status).toBe(409);
  });
});

describe('GET /api/workspaces/:ws/escalations', () => {
  it('filters by status, assignee, channel, text and age, pages with cursors, keeps notes, and deletes for admins', async () => {
    const { workspaceId, owner, operator, token, channel } = await setup({ escalationAction: 'notify' });
    const chats = [nextChat++, nextChat++, nextChat++];
    for (const [index, chatId] of chats.entries())
      fake.sendText(token, {
        chatId,
        from: customer(chatId),
        text: index === 0 ? 'I need a manager now' : '/escalate',
      });
    for (const chatId of chats) await fake.waitFor(() => fake.sentMessages(token, chatId).length === 1);
    const path = `/api/workspaces/${workspaceId}/escalations`;
    const list = async (query: string, user = operator) => {
      const response = await app.api(`${path}?${query}`, { token: user.token });
      expect(response.status).toBe(200);
      return response.json as { items: Array<{ id: string; reason: string }>; nextCursor: string | null };
    };
    const all = await list('');
    expect(all.items).toHaveLength(3);
    const first = await list('limit=2');
    expect(first.items).toHaveLength(2);
    const rest = await list(`limit=2&cursor=${first.nextCursor}`);
    expect(rest.items).toHaveLength(1);
    expect(rest.nextCursor).toBeNull();
    expect(new Set([...first.items, ...rest.items].map((item) => item.id)).size).toBe(3);
    expect((await list('q=keyword')).items.map((item) => item.reason)).toEqual(['escalation keyword']);
    expect((await list(`channelId=${channel.id}`)).items).toHaveLength(3);
    expect((await list('olderThanMinutes=60')).items).toHaveLength(0);
    expect((await list('status=resolved,cancelled')).items).toHaveLength(0);
    expect((await list('status=open')).items).toHaveLength(3);
    expect((await app.api(`${path}?status=opened`, { token: operator.token })).status).toBe(400);

    const target = all.items[0]?.id ?? '';
    const assign = await app.api(`${path}/${target}`, {
      method: 'PATCH',
      token: owner.token,
      json: { assigneeId: operator.id, priority: 'urgent', status: 'contacted' },
    });
    expect(assign.status).toBe(200);
    expect(assign.json).toMatchObject({ assigneeId: operator.id, priority: 'urgent', status: 'contacted' });
    expect((await list('assignee=me')).items.map((item) => item.id)).toEqual([target]);
    expect((await list('assignee=none')).items).toHaveLength(2);
    const viewer = await addMember(app, owner, workspaceId, 'viewer');
    const badAssignee = await app.api(`${path}/${target}`, {
      method: 'PATCH',
      token: owner.token,
      json: { assigneeId: viewer.id },
    });
    expect(badAssignee.status).toBe(400);

    const note = await app.api(`${path}/${target}/notes`, {
      method: 'POST',
      token: operator.token,
      json: { body: 'Called the warehouse.' },
    });
    expect(note.status).toBe(201);
    const notes = await app.api(`${path}/${target}/notes`, { token: operator.token });
    expect(notes.json.items).toMatchObject([{ body: 'Called the warehouse.', authorId: operator.id }]);
    expect((await app.api(`${path}/${target}/notes`, { token: viewer.token })).status).toBe(403);

    expect((await app.api(`${path}/${target}`, { method: 'DELETE', token: operator.token })).status).toBe(
      403,
    );
    expect((await app.api(`${path}/${target}`, { method: 'DELETE', token: owner.token })).status).toBe(204);
    expect((await app.api(`${path}/${target}`, { token: owner.token })).status).toBe(404);

    const audit = await app.ctx.db
      .select({ action: auditLog.action })
      .from(auditLog)
      .where(eq(auditLog.workspaceId, workspaceId));
    const actions = audit.map((row) => row.action);
    for (const action of [
      'escalation.assign',
      'escalation.priority',
      'escalation.status',
      'escalation.note',
      'escalation.delete',
    ])
      expect(actions).toContain(action);
  });

  it('validates the escalation settings and refuses a notification channel of another workspace', async () => {
    const { workspaceId, owner, operator } = await setup();
    const other = await setup();
    const path = `/api/workspaces/${workspaceId}/settings/escalations`;
    expect((await app.api(path, { token: operator.token })).status).toBe(403);
    const defaults = await app.api(path, { token: owner.token });
    expect(defaults.json).toMatchObject({ slaMinutes: 30, assignment: 'manual', notifyTelegramChatId: null });
    const foreign = await app.api(path, {
      method: 'PUT',
      token: owner.token,
      json: { notifyTelegramChatId: '-100', notifyChannelId: other.channel.id },
    });
    expect(foreign.status).toBe(400);
    const invalid = await app.api(path, { method: 'PUT', token: owner.token, json: { slaMinutes: 0 } });
    expect(invalid.status).toBe(400);
    const saved = await app.api(path, { method: 'PUT', token: owner.token, json: { assignment: 'auto' } });
    expect(saved.json).toMatchObject({ assignment: 'auto', slaMinutes: 30 });
  });
});
