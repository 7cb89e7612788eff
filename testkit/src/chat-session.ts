import { readFileSync } from 'node:fs';
import path from 'node:path';
import { and, eq, inArray, isNotNull } from 'drizzle-orm';
import type { Message } from 'grammy/types';
import { inboxUpdates, outbox } from '../../src/pipeline/schema.ts';
import type { FakeTelegram } from './fake-telegram.ts';
import type { TestApp } from './start-app.ts';
import type { TestUser } from './users.ts';

/**
 * A customer talking to a seeded bot through the fake Telegram, one turn at a time: each call
 * sends an update and resolves once the pipeline has processed it and delivered every reply
 * it queued, with those replies. No fixed sleeps: it waits on the inbox and the outbox.
 */
export function chatSession(
  app: TestApp,
  fake: FakeTelegram,
  bot: { token: string; channel: { id: string } },
  chatId: number,
  from: { id: number; first_name: string; username?: string; language_code?: string } = {
    id: chatId,
    first_name: 'Ann',
    username: `ann${chatId}`,
    language_code: 'en',
  },
) {
  const turn = async (send: () => { update_id: number }): Promise<Message[]> => {
    const before = fake.sentMessages(bot.token, chatId).length;
    const { update_id: updateId } = send();
    await waitUntil(async () => {
      const [processed] = await app.ctx.db
        .select({ id: inboxUpdates.id })
        .from(inboxUpdates)
        .where(
          and(
            eq(inboxUpdates.channelId, bot.channel.id),
            eq(inboxUpdates.updateId, updateId),
            isNotNull(inboxUpdates.processedAt),
          ),
        );
      if (!processed) return false;
      const pending = await app.ctx.db
        .select({ id: outbox.id })
        .from(outbox)
        .where(
          and(
            eq(outbox.channelId, bot.channel.id),
            eq(outbox.chatId, String(chatId)),
            inArray(outbox.status, ['queued', 'sending']),
          ),
        );
      return pending.length === 0;
    }, 30_000);
    return fake.sentMessages(bot.token, chatId).slice(before);
  };
  return {
    text: (text: string) => turn(() => fake.sendText(bot.token, { chatId, from, text })),
    press: (data: string) => turn(() => fake.sendCallback(bot.token, { chatId, from, data })),
    photo: (input: { bytes: Uint8Array; caption?: string; mimeType?: string }) =>
      turn(() => fake.sendPhoto(bot.token, { chatId, from, ...input })),
    voice: (input: { bytes: Uint8Array; mimeType?: string; duration?: number }) =>
      turn(() => fake.sendVoice(bot.token, { chatId, from, ...input })),
  };
}

/** The callback data of a message's inline buttons, row by row flattened. */
export function buttonDataOf(message: Message | undefined): string[] {
  return (message?.reply_markup?.inline_keyboard ?? [])
    .flat()
    .map((button) => ('callback_data' in button ? (button.callback_data ?? '') : ''));
}

const examples = path.resolve(import.meta.dirname, '../../examples');

/**
 * The example shop: `examples/products.csv` through the import API, `examples/knowledge/faq.md`
 * through the upload API (waited for until ingested), and one QA pair about the showroom.
 */
export async function loadExampleShop(app: TestApp, owner: TestUser, workspaceId: string): Promise<void> {
  const imported = await fetch(`${app.url}/api/workspaces/${workspaceId}/products/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'text/csv' },
    body: readFileSync(path.join(examples, 'products.csv')),
  });
  if (imported.status !== 200) throw new Error(`product import answered ${imported.status}`);
  const upload = await fetch(`${app.url}/api/workspaces/${workspaceId}/knowledge/documents?filename=faq.md`, {
    method: 'POST',
    headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'text/markdown' },
    body: readFileSync(path.join(examples, 'knowledge/faq.md')),
  });
  if (upload.status !== 202) throw new Error(`knowledge upload answered ${upload.status}`);
  const { id } = (await upload.json()) as { id: string };
  await waitUntil(async () => {
    const document = await app.api(`/api/workspaces/${workspaceId}/knowledge/documents/${id}`, {
      token: owner.token,
    });
    if (document.json.status === 'failed')
      throw new Error(`ingestion failed: ${JSON.stringify(document.json)}`);
    return document.json.status === 'ready';
  }, 30_000);
  const pair = await app.api(`/api/workspaces/${workspaceId}/knowledge/qa-pairs`, {
    method: 'POST',
    token: owner.token,
    json: {
      question: 'Do you have a showroom?',
      answer: 'Yes! Our showroom is at 12 Garden Street, open daily 10:00–20:00.',
    },
  });
  if (pair.status !== 201) throw new Error(`QA pair answered ${pair.status}`);
}

/** Polls `predicate` every 25 ms until it holds (throws after `timeoutMs`). */
export async function waitUntil(predicate: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
