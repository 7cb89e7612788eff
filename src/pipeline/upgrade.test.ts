import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FakeTelegram } from '../../testkit/src/fake-telegram.ts';
import { seedTelegramBot } from '../../testkit/src/telegram-bot.ts';
import { buildApp } from '../app.ts';
import { chatKeyOf, updateTypeOf } from '../channels/telegram/normalize.ts';
import { type Config, loadConfig } from '../config.ts';
import { workspaces } from '../features/workspaces/schema.ts';
import { closeContext, createContext } from '../main.ts';
import { deriveKeys, resolveSecret } from '../platform/crypto.ts';
import { uuidv7 } from '../platform/db/columns.ts';
import { type Db, openDatabase } from '../platform/db/index.ts';
import { migrate, readMigrations } from '../platform/db/migrate.ts';
import { selectRows } from '../platform/db/rows.ts';
import { createLogger } from '../platform/logger.ts';

/** The first migration of the new pipeline; the previous release had every migration before it. */
const PIPELINE_V2 = '0012_pipeline_v2';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// What the new code must send, per chat, in this order, and nothing else.
const GREETING = 'Welcome (greeting)';
const HELP = 'Help text';
const MANAGER = 'Manager contact';
const IN_FLIGHT = 'in flight when the old process died';

describe('upgrade to the pipeline with chat leases (0012_pipeline_v2)', () => {
  it('on PGlite in a data dir: pending updates left by the previous release are processed and answered once, queued replies sent once, an in-flight one never', async () => {
    await checkUpgrade({ postgres: false });
  }, 120_000);

  it.runIf(Boolean(process.env.TEST_DATABASE_URL))(
    'on PostgreSQL (with Redis when TEST_REDIS_URL is set): the same',
    async () => {
      await checkUpgrade({ postgres: true });
    },
    120_000,
  );
});

async function checkUpgrade(options: { postgres: boolean }) {
  const fake = await FakeTelegram.start();
  cleanups.push(() => fake.close());
  const dataDir = mkdtempSync(path.join(tmpdir(), 'switchboard-upgrade-'));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const databaseUrl = options.postgres ? await freshDatabase() : undefined;
  const redisUrl = options.postgres ? process.env.TEST_REDIS_URL : undefined;
  const config = loadConfig(
    {
      NODE_ENV: 'test',
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_SECRET: `upgrade-test-secret-${'z'.repeat(32)}`,
      TELEGRAM_API_ROOT: fake.url,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    },
    dataDir,
  );

  const { token, left } = await leaveOldReleaseState(config, fake);

  // The new code starts on that database as `switchboard start` would (role all): migrations
  // in createContext, the pipeline loops in buildApp.
  const ctx = await createContext(config, {
    logger: createLogger({ level: config.LOG_LEVEL }),
    redisPrefix: `upgrade-${randomBytes(4).toString('hex')}`,
    defaultMetrics: false,
  });
  const app = await buildApp(ctx, { work: true });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await app.close();
    await closeContext(ctx);
  };
  cleanups.push(close);

  const migrated = await selectRows(
    ctx.db,
    sql`select tag from switchboard_migrations where tag = ${PIPELINE_V2}`,
    z.object({ tag: z.string() }),
  );
  expect(migrated).toEqual([{ tag: PIPELINE_V2 }]);

  const expected = new Map<number, string[]>([
    // Three pending updates in one chat: answered in update order.
    [501, [GREETING, HELP, MANAGER]],
    // A reply queued before the chat's pending update goes first.
    [502, ['old reply 502', HELP]],
    [503, [MANAGER]],
    // The row in flight is never sent; the one queued behind it is.
    [504, ['queued behind the crash']],
    [505, ['old queued 1', 'old queued 2']],
  ]);
  const total = [...expected.values()].reduce((sum, texts) => sum + texts.length, 0);
  await fake.waitFor(() => fake.sentCount(token) >= total, 60_000);
  await waitForDb(ctx.db, async (db) => {
    const [state] = await selectRows(
      db,
      sql`select
        (select count(*) from inbox_updates where processed_at is null)::int as pending,
        (select count(*) from outbox where status in ('queued', 'sending'))::int as unsent`,
      z.object({ pending: z.number(), unsent: z.number() }),
    );
    return state?.pending === 0 && state.unsent === 0;
  });
  // Time for a duplicate to show up: several rounds of both loops (they poll every second).
  await sleep(3000);

  const textsIn = (chatId: number) => fake.sentMessages(token, chatId).map((message) => message.text);
  for (const [chatId, texts] of expected) expect(textsIn(chatId), `chat ${chatId}`).toEqual(texts);
  expect(fake.sentCount(token)).toBe(total);
  expect(fake.sentMessages(token).some((message) => message.text === IN_FLIGHT)).toBe(false);

  // Every pending update processed once: marked, stored once, one reply row keyed by it.
  const updates = await selectRows(
    ctx.db,
    sql`select u.id, u.processed_at is not null as processed, u.error,
        (select count(*) from messages m where m.direction = 'in' and m.source_update_id = u.update_id)::int as stored,
        (select count(*) from outbox o where o.idempotency_key like 'u' || u.id || ':%')::int as replies
      from inbox_updates u where u.id in ${idList(left.pendingIds)}`,
    z.object({
      id: z.coerce.number(),
      processed: z.boolean(),
      error: z.string().nullable(),
      stored: z.number(),
      replies: z.number(),
    }),
  );
  expect(updates).toHaveLength(left.pendingIds.length);
  for (const update of updates)
    expect(update, `inbox ${update.id}`).toMatchObject({
      processed: true,
      error: null,
      stored: 1,
      replies: 1,
    });

  const rows = await selectRows(
    ctx.db,
    sql`select o.id, o.status, o.lease_until is null as released, m.status as message_status
      from outbox o left join messages m on m.id = o.message_id
      where o.id in ${idList([...left.queuedIds, left.inFlightId])}`,
    z.object({
      id: z.coerce.number(),
      status: z.string(),
      released: z.boolean(),
      message_status: z.string().nullable(),
    }),
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  for (const id of left.queuedIds)
    expect(byId.get(id), `outbox ${id}`).toMatchObject({ status: 'sent', message_status: 'sent' });
  expect(byId.get(left.inFlightId)).toMatchObject({
    status: 'unknown',
    released: true,
    message_status: 'unknown',
  });
  await close();
}

// ─── The previous release's database ─────────────────────────────────────────

/**
 * Builds the database the previous release would leave behind: its migrations (every one
 * before 0012, applied by the same migrator), a bot, and — in plain SQL against that schema —
 * what its pipeline had not finished when it stopped: pending inbox updates, queued replies
 * with their messages rows, and one reply `sending` at the moment the process died.
 */
async function leaveOldReleaseState(config: Config, fake: FakeTelegram) {
  const all = readMigrations();
  const cut = all.findIndex((migration) => migration.tag === PIPELINE_V2);
  expect(cut).toBeGreaterThan(0);
  const database = await openDatabase({
    url: config.DATABASE_URL,
    pgliteDir: config.DATABASE_URL ? undefined : path.join(config.dataDir, 'pglite'),
  });
  try {
    const { db } = database;
    await migrate(db, all.slice(0, cut));
    const [leaseTable] = await selectRows(
      db,
      sql`select to_regclass('chat_leases') is null as absent`,
      z.object({ absent: z.boolean() }),
    );
    expect(leaseTable?.absent).toBe(true);

    const keys = deriveKeys(resolveSecret(config.SWITCHBOARD_SECRET, config.dataDir));
    const [workspace] = await db.insert(workspaces).values({ name: 'Upgrade', slug: 'upgrade' }).returning();
    if (!workspace) throw new Error('no workspace');
    const { token, channel } = await seedTelegramBot({ db, keys }, fake, {
      workspaceId: workspace.id,
      config: {
        greeting: { en: GREETING },
        helpText: { en: HELP },
        managerContact: MANAGER,
        throttle: { perSecond: 100, burst: 100 },
        assistant: { escalateAfterUnknown: 0 },
      },
    });
    const scope = { workspaceId: workspace.id, botId: channel.botId, channelId: channel.id };

    let updateId = 1000;
    const insertUpdate = async (chatId: number, text: string, processed: boolean) => {
      updateId += 1;
      const payload = {
        update_id: updateId,
        message: {
          message_id: updateId,
          date: Math.floor(Date.now() / 1000),
          chat: { id: chatId, type: 'private', first_name: 'Customer' },
          from: { id: chatId, is_bot: false, first_name: 'Customer' },
          text,
        },
      };
      const [row] = await selectRows(
        db,
        sql`insert into inbox_updates (channel_id, update_id, chat_key, update_type, payload, processed_at)
          values (${channel.id}, ${updateId}, ${chatKeyOf(payload)}, ${updateTypeOf(payload)},
            ${JSON.stringify(payload)}::jsonb, ${processed ? sql`now()` : sql`null`})
          returning id`,
        z.object({ id: z.coerce.number() }),
      );
      if (!row) throw new Error('inbox insert returned nothing');
      return { inboxId: row.id, updateId };
    };

    // A chat the previous release had already answered once: contact, conversation, the
    // customer's message, and replies to it in the outbox, written as its processor did.
    const answeredChat = async (
      chatId: number,
      replies: Array<{ text: string; status: 'queued' | 'sending' }>,
    ) => {
      const { inboxId, updateId: answered } = await insertUpdate(chatId, 'an earlier question', true);
      const [conversation] = await selectRows(
        db,
        sql`with contact as (
            insert into contacts (id, workspace_id, channel_id, external_id, first_name, message_count)
            values (${uuidv7()}, ${scope.workspaceId}, ${scope.channelId}, ${String(chatId)}, 'Customer', 1)
            returning id
          )
          insert into conversations (id, workspace_id, bot_id, channel_id, contact_id, chat_id, message_count)
          select ${uuidv7()}, ${scope.workspaceId}, ${scope.botId}, ${scope.channelId}, id, ${String(chatId)}, 1
          from contact
          returning id`,
        z.object({ id: z.string() }),
      );
      if (!conversation) throw new Error('conversation insert returned nothing');
      await db.execute(sql`
        insert into messages (id, workspace_id, conversation_id, direction, type, text, sender, external_id,
          source_update_id, status)
        values (${uuidv7()}, ${scope.workspaceId}, ${conversation.id}, 'in', 'text', 'an earlier question', 'customer',
          ${String(answered)}, ${answered}, 'received')`);
      const ids: number[] = [];
      for (const [index, reply] of replies.entries()) {
        const idempotencyKey = `u${inboxId}:${index + 1}`;
        // The previous release's sender left messages rows `queued` while their outbox row was `sending`.
        const [row] = await selectRows(
          db,
          sql`with message as (
              insert into messages (id, workspace_id, conversation_id, direction, type, text, payload, sender, status)
              values (${uuidv7()}, ${scope.workspaceId}, ${conversation.id}, 'out', 'text', ${reply.text},
                ${JSON.stringify({ idempotencyKey })}::jsonb, 'bot', 'queued')
              returning id
            )
            insert into outbox (workspace_id, channel_id, conversation_id, message_id, chat_id, idempotency_key,
              method, params, status, attempts)
            select ${scope.workspaceId}, ${scope.channelId}, ${conversation.id}, id, ${String(chatId)},
              ${idempotencyKey}, 'sendMessage', ${JSON.stringify({ chat_id: String(chatId), text: reply.text })}::jsonb,
              ${reply.status}, ${reply.status === 'sending' ? 1 : 0}
            from message
            returning id`,
          z.object({ id: z.coerce.number() }),
        );
        if (!row) throw new Error('outbox insert returned nothing');
        ids.push(row.id);
      }
      return ids;
    };

    const queuedIds = [
      ...(await answeredChat(502, [{ text: 'old reply 502', status: 'queued' }])),
      ...(await answeredChat(505, [
        { text: 'old queued 1', status: 'queued' },
        { text: 'old queued 2', status: 'queued' },
      ])),
    ];
    const [inFlightId, behindId] = await answeredChat(504, [
      { text: IN_FLIGHT, status: 'sending' },
      { text: 'queued behind the crash', status: 'queued' },
    ]);
    if (inFlightId === undefined || behindId === undefined) throw new Error('outbox rows missing');
    queuedIds.push(behindId);

    // Pending updates, interleaved across chats as webhooks arrive.
    const pending: Array<[number, string]> = [
      [501, '/start'],
      [502, '/help'],
      [501, '/help'],
      [503, '/contact'],
      [501, '/contact'],
    ];
    const pendingIds: number[] = [];
    for (const [chatId, text] of pending) pendingIds.push((await insertUpdate(chatId, text, false)).inboxId);

    return { token, left: { pendingIds, queuedIds, inFlightId } };
  } finally {
    await database.close();
  }
}

// ─── Helpers ─────────────────────────────────────────────────────────────────

/** A new, empty PostgreSQL database at TEST_DATABASE_URL's server, dropped after the test. */
async function freshDatabase(): Promise<string> {
  const base = process.env.TEST_DATABASE_URL;
  if (!base) throw new Error('TEST_DATABASE_URL is not set');
  const name = `upgrade_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  cleanups.push(async () => {
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    await client.query(`drop database if exists ${name} with (force)`);
    await client.end();
  });
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

/** `(1, 2, 3)` for `in`, one parameter per id. */
function idList(ids: number[]) {
  return sql`(${sql.join(
    ids.map((id) => sql`${id}`),
    sql`, `,
  )})`;
}

/** Polls the database until `done` holds (the pipeline settles rows after the fake saw them). */
async function waitForDb(db: Db, done: (db: Db) => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done(db))) {
    if (Date.now() > deadline) throw new Error(`database did not settle within ${timeoutMs} ms`);
    await sleep(100);
  }
}
