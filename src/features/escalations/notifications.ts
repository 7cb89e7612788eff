import { and, eq, isNull } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { outbox } from '../../pipeline/schema.ts';
import { wakeWorkers } from '../../pipeline/wake.ts';
import { channels } from '../channels/schema.ts';
import { contacts } from '../conversations/schema.ts';
import { users } from '../identity/schema.ts';
import { workspaces } from '../workspaces/schema.ts';
import { escalations } from './schema.ts';
import { readEscalationSettings } from './settings.ts';

export type NotificationKind = 'created' | 'assigned' | 'overdue';

/**
 * Tells the team about an escalation outside the panel: a message to the workspace's
 * operators chat on Telegram (through one of its bots, via the outbox, so it is paced and
 * sent once) and a mail to the assignee. `created` is claimed through `notified_at`, so it
 * goes out once even when the sweeper catches up after a crash. Never throws: a failed
 * notification is logged, the escalation stands.
 */
export async function notifyEscalation(ctx: AppContext, escalationId: string, kind: NotificationKind) {
  try {
    if (kind === 'created') {
      const [claimed] = await ctx.db
        .update(escalations)
        .set({ notifiedAt: new Date() })
        .where(and(eq(escalations.id, escalationId), isNull(escalations.notifiedAt)))
        .returning({ id: escalations.id });
      if (!claimed) return;
    }
    const [row] = await ctx.db
      .select({
        escalation: escalations,
        settings: workspaces.settings,
        workspaceName: workspaces.name,
        contact: { firstName: contacts.firstName, lastName: contacts.lastName, username: contacts.username },
        assigneeEmail: users.email,
      })
      .from(escalations)
      .innerJoin(workspaces, eq(workspaces.id, escalations.workspaceId))
      .innerJoin(contacts, eq(contacts.id, escalations.contactId))
      .leftJoin(users, eq(users.id, escalations.assigneeId))
      .where(eq(escalations.id, escalationId));
    if (!row || row.escalation.action === 'log_only') return;
    const settings = readEscalationSettings(row.settings);
    const { escalation } = row;
    const customer =
      [row.contact.firstName, row.contact.lastName].filter(Boolean).join(' ') ||
      (row.contact.username ? `@${row.contact.username}` : 'a customer');
    const link = inboxLink(ctx, escalation.conversationId);
    const headline =
      kind === 'overdue'
        ? `Escalation overdue (no answer within ${settings.slaMinutes} min)`
        : kind === 'assigned'
          ? 'An escalation was assigned to you'
          : 'New escalation';
    const text = [
      `${headline} — ${row.workspaceName}`,
      `Customer: ${customer}`,
      `Reason: ${escalation.reason}`,
      `Priority: ${escalation.priority}`,
      link,
    ].join('\n');

    if (kind !== 'assigned' && settings.notifyTelegramChatId && settings.notifyChannelId) {
      await sendToTeamChat(ctx, {
        workspaceId: escalation.workspaceId,
        channelId: settings.notifyChannelId,
        chatId: settings.notifyTelegramChatId,
        key: `esc:${escalation.id}:${kind}`,
        text,
      });
    }
    if (kind !== 'created' && settings.emailAssignee && row.assigneeEmail) {
      await ctx.mailer.send({ to: row.assigneeEmail, subject: `${headline}: ${customer}`, text });
    }
  } catch (error) {
    ctx.logger.error({ err: error, escalationId, kind }, 'escalation notification failed');
  }
}

/** Deep link to the conversation in the panel's inbox. */
export function inboxLink(ctx: AppContext, conversationId: string): string {
  const base = ctx.config.PUBLIC_URL?.replace(/\/+$/, '') ?? '';
  return `${base}/inbox/${conversationId}`;
}

async function sendToTeamChat(
  ctx: AppContext,
  options: { workspaceId: string; channelId: string; chatId: string; key: string; text: string },
) {
  const [channel] = await ctx.db
    .select({ id: channels.id, type: channels.type })
    .from(channels)
    .where(and(eq(channels.id, options.channelId), eq(channels.workspaceId, options.workspaceId)));
  if (channel?.type !== 'telegram') {
    ctx.logger.warn(
      { workspaceId: options.workspaceId, channelId: options.channelId },
      'escalation notification channel is not a Telegram channel of the workspace',
    );
    return;
  }
  const added = await ctx.db
    .insert(outbox)
    .values({
      workspaceId: options.workspaceId,
      channelId: channel.id,
      chatId: options.chatId,
      idempotencyKey: options.key,
      method: 'sendMessage',
      params: { chat_id: options.chatId, text: options.text, link_preview_options: { is_disabled: true } },
    })
    .onConflictDoNothing({ target: [outbox.channelId, outbox.idempotencyKey] })
    .returning({ id: outbox.id });
  if (added.length > 0) wakeWorkers(ctx, 'send');
}
