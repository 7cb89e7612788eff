import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTelegram } from '../../../testkit/src/fake-telegram.ts';
import { connectSse, type SseClient } from '../../../testkit/src/sse-client.ts';
import { startTestApp, type TestApp } from '../../../testkit/src/start-app.ts';
import { seedTelegramBot } from '../../../testkit/src/telegram-bot.ts';
import { addMember, createTestWorkspace, signUp, type TestUser } from '../../../testkit/src/users.ts';
import { auditLog } from '../audit/schema.ts';
import { conversations } from '../conversations/schema.ts';
import { escalations } from '../escalations/schema.ts';
import { mailOutbox } from '../mail/schema.ts';

// A short presence timeout: the sweeper then runs every second.
const TIMEOUT_MS = 3000;

let fake: FakeTelegram;
let app: TestApp;
const streams: SseClient[] = [];
const heartbeats: NodeJS.Timeout[] = [];

beforeAll(async () => {
  fake = await FakeTelegram.start({ webhookRetryBaseMs: 20 });
  app = await startTestApp({
    env: { TELEGRAM_API_ROOT: fake.url, OPERATOR_PRESENCE_TIMEOUT_MS: String(TIMEOUT_MS) },
  });
});
afterAll(async () => {
  for (const timer of heartbeats) clearInterval(timer);
  for (const stream of streams) stream.close();
  await app?.close();
  await fake?.close();
});

const customer = (id: number) => ({ id, first_name: 'Bo', username: `bo${id}` });
let nextChat = 9000;

async function setup() {
  const owner = await signUp(app);
  const workspaceId = await createTestWorkspace(app, owner);
  const bot = await seedTelegramBot(app.ctx, fake, {
    workspaceId,
    webhookBaseUrl: app.url,
    config: { language: 'en', throttle: { perSecond: 100, burst: 100 } },
  });
  return { owner, workspaceId, ...bot };
}

function presence(workspaceId: string, user: TestUser, status: 'online' | 'away' | 'offline') {
  return app.api(`/api/workspaces/${workspaceId}/presence`, {
    method: 'PUT',
    token: user.token,
    json: { status },
  });
}

/** Keeps an operator online with heartbeats well inside the timeout, until the test file ends. */
async function keepOnline(workspaceId: string, user: TestUser) {
  expect((await presence(workspaceId, user, 'online')).status).toBe(200);
  heartbeats.push(setInterval(() => void presence(workspaceId, user, 'online'), TIMEOUT_MS / 4));
}

async function waitUntil<T>(read: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await read();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('condition not met in time');
}

async function escalate(token: string, channelId: string) {
  const chatId = nextChat++;
  fake.sendText(token, { chatId, from: customer(chatId), text: '/escalate' });
  return waitUntil(async () => {
    const [row] = await app.ctx.db
      .select({ escalation: escalations })
      .from(escalations)
      .innerJoin(conversations, eq(conversations.id, escalations.conversationId))
      .where(and(eq(conversations.channelId, channelId), eq(conversations.chatId, String(chatId))));
    return row?.escalation;
  });
}

describe('PUT /api/workspaces/:ws/presence', () => {
  it('goes offline without heartbeats, and the operator’s escalations and conversations go back to the queue', async () => {
    const { owner, workspaceId, token, channel } = await setup();
    const operator = await addMember(app, owner, workspaceId, 'operator');
    const viewer = await addMember(app, owner, workspaceId, 'viewer');
    expect((await presence(workspaceId, viewer, 'online')).status).toBe(403);
    const events = await connectSse(`${app.url}/api/workspaces/${workspaceId}/events`, {
      token: owner.token,
    });
    streams.push(events);

    const online = await presence(workspaceId, operator, 'online');
    expect(online.json).toMatchObject({ userId: operator.id, status: 'online', activeChats: 0, maxChats: 5 });
    await events.waitFor((event) => event.event === 'presence' && event.json.status === 'online');

    const held = await escalate(token, channel.id);
    const assigned = await escalate(token, channel.id);
    // A last heartbeat (escalating may have taken a while on a busy machine), then silence.
    await presence(workspaceId, operator, 'online');
    const takeover = await app.api(
      `/api/workspaces/${workspaceId}/conversations/${held.conversationId}/takeover`,
      { method: 'POST', token: operator.token },
    );
    expect(takeover.status).toBe(200);
    const patch = await app.api(`/api/workspaces/${workspaceId}/escalations/${assigned.id}`, {
      method: 'PATCH',
      token: owner.token,
      json: { assigneeId: operator.id },
    });
    expect(patch.status).toBe(200);
    const listed = await app.api(`/api/workspaces/${workspaceId}/presence`, { token: viewer.token });
    expect(listed.json.items).toContainEqual(
      expect.objectContaining({ userId: operator.id, status: 'online', activeChats: 2 }),
    );

    // No more heartbeats: the sweeper marks the operator offline and re-queues. (Only events
    // from here on count: on a slow machine the operator may have timed out once already.)
    const mark = events.events.length;
    const fresh = (event: (typeof events.events)[number]) => events.events.indexOf(event) >= mark;
    await events.waitFor(
      (event) =>
        fresh(event) &&
        event.event === 'presence' &&
        event.json.userId === operator.id &&
        event.json.status === 'offline',
      TIMEOUT_MS * 5,
    );
    await events.waitFor(
      (event) =>
        fresh(event) &&
        event.event === 'conversation.mode' &&
        event.json.conversationId === held.conversationId &&
        event.json.mode === 'waiting',
    );
    const rows = await app.ctx.db.select().from(escalations).where(eq(escalations.workspaceId, workspaceId));
    expect(rows.map((row) => [row.status, row.assigneeId])).toEqual([
      ['pending', null],
      ['pending', null],
    ]);
    const [conversation] = await app.ctx.db
      .select({ mode: conversations.mode })
      .from(conversations)
      .where(eq(conversations.id, held.conversationId));
    expect(conversation?.mode).toBe('waiting');
    const audit = await app.ctx.db
      .select({ action: auditLog.action, actor: auditLog.actorLabel })
      .from(auditLog)
      .where(and(eq(auditLog.workspaceId, workspaceId), eq(auditLog.action, 'escalation.requeue')));
    expect(audit).toHaveLength(2);
    expect(audit[0]?.actor).toBe('presence timeout');
  });

  it('re-queues at once when the operator says offline', async () => {
    const { owner, workspaceId, token, channel } = await setup();
    const operator = await addMember(app, owner, workspaceId, 'operator');
    await presence(workspaceId, operator, 'online');
    const escalation = await escalate(token, channel.id);
    await app.api(`/api/workspaces/${workspaceId}/escalations/${escalation.id}`, {
      method: 'PATCH',
      token: owner.token,
      json: { assigneeId: operator.id, status: 'contacted' },
    });
    const off = await presence(workspaceId, operator, 'offline');
    expect(off.json).toMatchObject({ status: 'offline', activeChats: 0 });
    const [row] = await app.ctx.db.select().from(escalations).where(eq(escalations.id, escalation.id));
    expect(row).toMatchObject({ status: 'pending', assigneeId: null });
  });
});

describe('removing a member', () => {
  it('puts the escalations and conversations of a removed operator back in the queue', async () => {
    const { owner, workspaceId, token, channel } = await setup();
    const operator = await addMember(app, owner, workspaceId, 'operator');
    await keepOnline(workspaceId, operator);
    const held = await escalate(token, channel.id);
    const takeover = await app.api(
      `/api/workspaces/${workspaceId}/conversations/${held.conversationId}/takeover`,
      { method: 'POST', token: operator.token },
    );
    expect(takeover.status).toBe(200);
    const assigned = await escalate(token, channel.id);
    await app.api(`/api/workspaces/${workspaceId}/escalations/${assigned.id}`, {
      method: 'PATCH',
      token: owner.token,
      json: { assigneeId: operator.id },
    });

    const removed = await app.api(`/api/workspaces/${workspaceId}/members/${operator.id}`, {
      method: 'DELETE',
      token: owner.token,
    });
    expect(removed.status).toBe(204);
    // The sweeper (every second here) finds the former member's work and re-queues it.
    const [conversation] = await waitUntil(async () => {
      const rows = await app.ctx.db
        .select({ mode: conversations.mode })
        .from(conversations)
        .where(eq(conversations.id, held.conversationId));
      return rows[0]?.mode === 'waiting' && rows;
    });
    expect(conversation?.mode).toBe('waiting');
    const rows = await app.ctx.db
      .select({ status: escalations.status, assigneeId: escalations.assigneeId })
      .from(escalations)
      .where(eq(escalations.workspaceId, workspaceId));
    expect(rows).toEqual([
      { status: 'pending', assigneeId: null },
      { status: 'pending', assigneeId: null },
    ]);
    const audit = await app.ctx.db
      .select({ actor: auditLog.actorLabel })
      .from(auditLog)
      .where(and(eq(auditLog.workspaceId, workspaceId), eq(auditLog.action, 'escalation.requeue')));
    expect(audit.map((row) => row.actor)).toEqual(['member removed', 'member removed']);
  });
});

describe('automatic assignment', () => {
  it('assigns round-robin among online operators with capacity, and hands waiting work out when room appears', async () => {
    const { owner, workspaceId, token, channel } = await setup();
    const settings = await app.api(`/api/workspaces/${workspaceId}/settings/escalations`, {
      method: 'PUT',
      token: owner.token,
      json: { assignment: 'auto' },
    });
    expect(settings.status).toBe(200);
    const a = await addMember(app, owner, workspaceId, 'operator');
    const b = await addMember(app, owner, workspaceId, 'operator');
    const away = await addMember(app, owner, workspaceId, 'operator');
    for (const user of [a, b]) {
      await app.api(`/api/workspaces/${workspaceId}/operators/${user.id}`, {
        method: 'PUT',
        token: owner.token,
        json: { maxChats: 2 },
      });
      await keepOnline(workspaceId, user);
    }
    await presence(workspaceId, away, 'away');

    const assignees: string[] = [];
    for (let i = 0; i < 4; i++) {
      const escalation = await escalate(token, channel.id);
      const assigned = await waitUntil(async () => {
        const [row] = await app.ctx.db.select().from(escalations).where(eq(escalations.id, escalation.id));
        return row?.assigneeId ?? undefined;
      });
      assignees.push(assigned);
    }
    // Alternating, two each, never the operator who is away.
    expect(assignees[0]).not.toBe(assignees[1]);
    expect(assignees[2]).toBe(assignees[0]);
    expect(assignees[3]).toBe(assignees[1]);
    expect(new Set(assignees)).toEqual(new Set([a.id, b.id]));

    // Everyone is full: the fifth waits unassigned…
    const fifth = await escalate(token, channel.id);
    const [waiting] = await app.ctx.db.select().from(escalations).where(eq(escalations.id, fifth.id));
    expect(waiting?.assigneeId).toBeNull();
    // …until someone's escalation is resolved.
    const [firstOfA] = await app.ctx.db
      .select()
      .from(escalations)
      .where(and(eq(escalations.workspaceId, workspaceId), eq(escalations.assigneeId, a.id)));
    const resolved = await app.api(`/api/workspaces/${workspaceId}/escalations/${firstOfA?.id}`, {
      method: 'PATCH',
      token: a.token,
      json: { status: 'resolved' },
    });
    expect(resolved.status).toBe(200);
    const next = await waitUntil(async () => {
      const [row] = await app.ctx.db.select().from(escalations).where(eq(escalations.id, fifth.id));
      return row?.assigneeId ?? undefined;
    });
    expect(next).toBe(a.id);
  });
});

describe('escalation sweeper', () => {
  it('reminds once about an overdue escalation: team chat, mail to the assignee, SSE', async () => {
    const { owner, workspaceId, token, channel } = await setup();
    const teamChat = -100_555;
    fake.addChat(token, { id: teamChat, type: 'supergroup', title: 'Ops' });
    const settings = await app.api(`/api/workspaces/${workspaceId}/settings/escalations`, {
      method: 'PUT',
      token: owner.token,
      json: { notifyTelegramChatId: String(teamChat), notifyChannelId: channel.id, slaMinutes: 5 },
    });
    expect(settings.status).toBe(200);
    const operator = await addMember(app, owner, workspaceId, 'operator');
    const events = await connectSse(`${app.url}/api/workspaces/${workspaceId}/events`, {
      token: owner.token,
    });
    streams.push(events);
    const escalation = await escalate(token, channel.id);
    await fake.waitFor(() => fake.sentMessages(token, teamChat).length === 1);
    const assigned = await app.api(`/api/workspaces/${workspaceId}/escalations/${escalation.id}`, {
      method: 'PATCH',
      token: owner.token,
      json: { assigneeId: operator.id },
    });
    expect(assigned.status).toBe(200);
    const assignMail = await waitUntil(async () => {
      const rows = await escalationMails(operator.email);
      return rows.length > 0 ? rows : undefined;
    });
    expect(assignMail[0]?.subject).toContain('assigned to you');

    // Past its SLA: the sweeper reminds once, however often it runs.
    await app.ctx.db
      .update(escalations)
      .set({ slaDueAt: new Date(Date.now() - 1000) })
      .where(eq(escalations.id, escalation.id));
    const breached = await events.waitFor((event) => event.event === 'escalation.sla_breached', 15_000);
    expect(breached.json.escalationId).toBe(escalation.id);
    const [overdue] = await fake.waitFor(() => {
      const sent = fake.sentMessages(token, teamChat).filter((message) => message.text?.includes('overdue'));
      return sent.length > 0 ? sent : undefined;
    });
    expect(overdue?.text).toContain(`/inbox/${escalation.conversationId}`);
    const listed = await app.api(`/api/workspaces/${workspaceId}/escalations?overdue=true`, {
      token: owner.token,
    });
    expect(listed.json.items).toMatchObject([{ id: escalation.id, overdue: true }]);
    // Two more sweeps: still one reminder.
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS));
    expect(events.events.filter((event) => event.event === 'escalation.sla_breached')).toHaveLength(1);
    expect(fake.sentMessages(token, teamChat)).toHaveLength(2);
    const mails = await escalationMails(operator.email);
    expect(mails.map((mail) => mail.subject.split(':')[0])).toEqual([
      'An escalation was assigned to you',
      'Escalation overdue (no answer within 5 min)',
    ]);
  }, 60_000);
});

/** Mails about escalations to `email`, oldest first (the invitation mail left out). */
async function escalationMails(email: string) {
  const rows = await app.ctx.db
    .select()
    .from(mailOutbox)
    .where(eq(mailOutbox.to, email))
    .orderBy(asc(mailOutbox.createdAt));
  return rows.filter((row) => !row.subject.startsWith('You are invited'));
}
