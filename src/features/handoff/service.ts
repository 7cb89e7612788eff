import { and, asc, eq, inArray, like, sql } from 'drizzle-orm';
import type { AppContext, RequestContext } from '../../context.ts';
import { type OutgoingMessage, queueOutgoing } from '../../pipeline/outgoing.ts';
import {
  customerLanguage,
  type ResponderConfig,
  readResponderConfig,
  textOf,
} from '../../pipeline/simple-responder.ts';
import { wakeWorkers } from '../../pipeline/wake.ts';
import { uuidv7 } from '../../platform/db/columns.ts';
import type { DbOrTx } from '../../platform/db/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { recordAudit } from '../audit/service.ts';
import { channels } from '../channels/schema.ts';
import { type ConversationMode, contacts, conversations, messages } from '../conversations/schema.ts';
import { escalations, OPEN_STATUSES, type Priority } from '../escalations/schema.ts';
import {
  afterEscalationOpened,
  announceChange,
  auditChange,
  type Escalation,
  getEscalation,
  openEscalation,
} from '../escalations/service.ts';
import { assertCanTakeOver } from '../operators/service.ts';
import { publishMessages } from '../realtime/publish.ts';
import { cannedResponses, conversationHolders } from './schema.ts';

/**
 * Live handoff: an operator takes a conversation over from the bot, answers the customer
 * through the same outbox and pacing as the bot, and hands it back (release) or closes the
 * escalation (resolve). The customer hears of each transition in their language, with the
 * texts of the bot config's `messages` (operatorJoined, backToBot, resolved).
 */

type Conversation = typeof conversations.$inferSelect;
type Channel = typeof channels.$inferSelect;

interface Locked {
  conversation: Conversation;
  channel: Channel;
  contact: typeof contacts.$inferSelect;
  holderId: string | null;
  escalation: Escalation | undefined;
}

/** The conversation, row-locked for the transaction, with its channel, contact, holder and open escalation. */
async function lockConversation(tx: DbOrTx, workspaceId: string, conversationId: string): Promise<Locked> {
  const [conversation] = await tx
    .select()
    .from(conversations)
    .where(and(eq(conversations.workspaceId, workspaceId), eq(conversations.id, conversationId)))
    .for('update');
  if (!conversation) throw notFound('Conversation');
  const [channel] = await tx.select().from(channels).where(eq(channels.id, conversation.channelId));
  const [contact] = await tx.select().from(contacts).where(eq(contacts.id, conversation.contactId));
  if (!channel || !contact) throw notFound('Conversation');
  const [holder] = await tx
    .select({ userId: conversationHolders.userId })
    .from(conversationHolders)
    .where(eq(conversationHolders.conversationId, conversationId));
  const [escalation] = await tx
    .select()
    .from(escalations)
    .where(
      and(eq(escalations.conversationId, conversationId), inArray(escalations.status, [...OPEN_STATUSES])),
    )
    .for('update');
  return { conversation, channel, contact, holderId: holder?.userId ?? null, escalation };
}

/**
 * The bot config of a conversation's bot, read BEFORE the transaction: the config store may
 * query the database, and on the embedded database (one connection) a query from inside a
 * transaction to outside it would wait for itself.
 */
async function configOf(
  ctx: AppContext,
  workspaceId: string,
  conversationId: string,
): Promise<ResponderConfig> {
  const [row] = await ctx.db
    .select({ botId: conversations.botId })
    .from(conversations)
    .where(and(eq(conversations.workspaceId, workspaceId), eq(conversations.id, conversationId)));
  if (!row) throw notFound('Conversation');
  return readResponderConfig((await ctx.botConfigs.getPublished(row.botId)).config);
}

/** A transition text in the customer's language, from the bot config's `messages`. */
function customerText(config: ResponderConfig, locked: Locked, key: string): string {
  return textOf(config, key, customerLanguage(config, locked.contact));
}

interface Effects {
  workspaceId: string;
  conversationId: string;
  channelId: string;
  chatId: string;
  idempotencyPrefix?: string;
  mode?: { mode: ConversationMode; holderId: string | null };
  escalation?: { before: Escalation; after: Escalation };
}

/** After commit: send what was queued, and tell the panel. */
async function applyEffects(ctx: AppContext, effects: Effects) {
  if (effects.idempotencyPrefix) {
    wakeWorkers(ctx, 'send');
    await publishMessages(ctx, {
      workspaceId: effects.workspaceId,
      conversationId: effects.conversationId,
      idempotencyPrefix: effects.idempotencyPrefix,
    });
  }
  if (effects.mode) {
    await ctx.events.publish({
      workspaceId: effects.workspaceId,
      type: 'conversation.mode',
      data: { conversationId: effects.conversationId, ...effects.mode },
    });
  }
  if (effects.escalation) await announceChange(ctx, effects.escalation.before, effects.escalation.after);
}

async function queueText(
  tx: DbOrTx,
  locked: Locked,
  prefix: string,
  items: OutgoingMessage[],
  userId: string | null,
) {
  if (locked.contact.status === 'blocked') return 0;
  return queueOutgoing(tx, {
    channel: locked.channel,
    conversationId: locked.conversation.id,
    chatId: locked.conversation.chatId,
    idempotencyPrefix: prefix,
    sender: userId ? 'operator' : 'system',
    senderUserId: userId,
    items,
  });
}

// ─── Takeover / release / resolve ────────────────────────────────────────────

/**
 * The operator takes the conversation: mode `human`, the bot goes quiet, the open escalation
 * (if any) becomes in progress and theirs. 409 when another operator holds it, when the
 * caller is not online or has no room left. Taking over one's own conversation again is a no-op.
 */
export async function takeOver(
  ctx: RequestContext,
  options: { workspaceId: string; conversationId: string; userId: string },
) {
  const prefix = `t${uuidv7()}`;
  const config = await configOf(ctx, options.workspaceId, options.conversationId);
  const effects = await ctx.db.transaction(async (tx): Promise<Effects | undefined> => {
    const locked = await lockConversation(tx, options.workspaceId, options.conversationId);
    const { conversation } = locked;
    if (locked.holderId === options.userId && conversation.mode === 'human') return undefined;
    if (locked.holderId && locked.holderId !== options.userId)
      throw new AppError('CONFLICT', {
        message: 'Another operator holds this conversation',
        details: { reason: 'held', holderId: locked.holderId },
      });
    await assertCanTakeOver(ctx, tx, options);
    await tx
      .insert(conversationHolders)
      .values({ conversationId: conversation.id, workspaceId: options.workspaceId, userId: options.userId })
      .onConflictDoUpdate({ target: conversationHolders.conversationId, set: { userId: options.userId } });
    await tx.update(conversations).set({ mode: 'human' }).where(eq(conversations.id, conversation.id));
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'conversation.takeover',
      targetType: 'conversation',
      targetId: conversation.id,
      before: { mode: conversation.mode, holderId: locked.holderId },
      after: { mode: 'human', holderId: options.userId },
    });
    let escalation: Effects['escalation'];
    if (locked.escalation) {
      const now = new Date();
      const [after] = await tx
        .update(escalations)
        .set({
          status: 'in_progress',
          assigneeId: options.userId,
          firstResponseAt: locked.escalation.firstResponseAt ?? now,
          updatedAt: now,
        })
        .where(eq(escalations.id, locked.escalation.id))
        .returning();
      if (after) {
        await auditChange(ctx, tx, locked.escalation, after);
        escalation = { before: locked.escalation, after };
      }
    }
    const queued = await queueText(
      tx,
      locked,
      prefix,
      [{ kind: 'text', text: customerText(config, locked, 'operatorJoined') }],
      null,
    );
    return {
      workspaceId: options.workspaceId,
      conversationId: conversation.id,
      channelId: conversation.channelId,
      chatId: conversation.chatId,
      ...(queued > 0 ? { idempotencyPrefix: prefix } : {}),
      mode: { mode: 'human', holderId: options.userId },
      ...(escalation ? { escalation } : {}),
    };
  });
  if (effects) {
    const escalation = effects.escalation?.before;
    ctx.analytics.track({
      workspaceId: options.workspaceId,
      channelId: effects.channelId,
      ...(escalation ? { botId: escalation.botId, contactId: escalation.contactId } : {}),
      type: 'handoff_started',
      data: escalation
        ? { escalationId: escalation.id, waitMs: Date.now() - escalation.createdAt.getTime() }
        : {},
    });
    await applyEffects(ctx, effects);
  }
  return handoffState(ctx, options.workspaceId, options.conversationId);
}

/**
 * Gives the conversation back to the bot, with `message` (or the config's `backToBot` text) as
 * the last word to the customer. The escalation stays open with its assignee until resolved.
 * Only the holder or an admin may release.
 */
export async function release(
  ctx: RequestContext,
  options: {
    workspaceId: string;
    conversationId: string;
    userId: string | null;
    isAdmin: boolean;
    message?: string | undefined;
  },
) {
  const prefix = `r${uuidv7()}`;
  const config = await configOf(ctx, options.workspaceId, options.conversationId);
  const effects = await ctx.db.transaction(async (tx): Promise<Effects> => {
    const locked = await lockConversation(tx, options.workspaceId, options.conversationId);
    const { conversation } = locked;
    if (conversation.mode !== 'human' && conversation.mode !== 'waiting')
      throw new AppError('CONFLICT', {
        message: `The bot already has this conversation (mode ${conversation.mode})`,
      });
    if (locked.holderId && locked.holderId !== options.userId && !options.isAdmin)
      throw new AppError('FORBIDDEN', {
        message: 'Only the operator holding the conversation or an admin may release it',
      });
    await tx.delete(conversationHolders).where(eq(conversationHolders.conversationId, conversation.id));
    await tx.update(conversations).set({ mode: 'bot' }).where(eq(conversations.id, conversation.id));
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'conversation.release',
      targetType: 'conversation',
      targetId: conversation.id,
      before: { mode: conversation.mode, holderId: locked.holderId },
      after: { mode: 'bot', holderId: null, ...(options.message ? { message: options.message } : {}) },
    });
    const text = options.message ?? customerText(config, locked, 'backToBot');
    const queued = await queueText(tx, locked, prefix, [{ kind: 'text', text }], options.userId);
    return {
      workspaceId: options.workspaceId,
      conversationId: conversation.id,
      channelId: conversation.channelId,
      chatId: conversation.chatId,
      ...(queued > 0 ? { idempotencyPrefix: prefix } : {}),
      mode: { mode: 'bot', holderId: null },
    };
  });
  await applyEffects(ctx, effects);
  return handoffState(ctx, options.workspaceId, options.conversationId);
}

/**
 * Resolves the conversation's open escalation and gives the conversation back to the bot,
 * telling the customer (config `resolved`). 409 when there is nothing to resolve.
 */
export async function resolve(
  ctx: RequestContext,
  options: {
    workspaceId: string;
    conversationId: string;
    userId: string | null;
    message?: string | undefined;
  },
) {
  const prefix = `v${uuidv7()}`;
  const config = await configOf(ctx, options.workspaceId, options.conversationId);
  const effects = await ctx.db.transaction(async (tx): Promise<Effects> => {
    const locked = await lockConversation(tx, options.workspaceId, options.conversationId);
    if (!locked.escalation && locked.conversation.mode === 'bot')
      throw new AppError('CONFLICT', {
        message: 'Nothing to resolve: no open escalation and the bot has the conversation',
      });
    return closeHandoff(ctx, tx, locked, {
      status: 'resolved',
      config,
      prefix,
      userId: options.userId,
      message: options.message,
    });
  });
  await applyEffects(ctx, effects);
  return handoffState(ctx, options.workspaceId, options.conversationId);
}

/**
 * Closing an escalation (resolve or cancel, from the conversation or through PATCH): the
 * escalation is closed, the conversation returns to the bot, and on resolve the customer is told.
 */
async function closeHandoff(
  ctx: RequestContext,
  tx: DbOrTx,
  locked: Locked,
  options: {
    status: 'resolved' | 'cancelled';
    config: ResponderConfig;
    prefix: string;
    userId: string | null;
    message?: string | undefined;
  },
): Promise<Effects> {
  const { conversation } = locked;
  let escalation: Effects['escalation'];
  if (locked.escalation && locked.escalation.status !== options.status) {
    const now = new Date();
    const [after] = await tx
      .update(escalations)
      .set({
        status: options.status,
        ...(options.status === 'resolved' ? { resolvedAt: now } : {}),
        updatedAt: now,
      })
      .where(eq(escalations.id, locked.escalation.id))
      .returning();
    if (after) {
      await auditChange(ctx, tx, locked.escalation, after);
      escalation = { before: locked.escalation, after };
    }
  }
  let mode: Effects['mode'];
  let queued = 0;
  if (conversation.mode === 'human' || conversation.mode === 'waiting') {
    await tx.delete(conversationHolders).where(eq(conversationHolders.conversationId, conversation.id));
    await tx.update(conversations).set({ mode: 'bot' }).where(eq(conversations.id, conversation.id));
    await recordAudit(ctx, tx, {
      workspaceId: conversation.workspaceId,
      action: 'conversation.resolve',
      targetType: 'conversation',
      targetId: conversation.id,
      before: { mode: conversation.mode, holderId: locked.holderId },
      after: { mode: 'bot', holderId: null },
    });
    mode = { mode: 'bot', holderId: null };
  }
  if (options.status === 'resolved' && (mode || options.message)) {
    const text = options.message ?? customerText(options.config, locked, 'resolved');
    queued = await queueText(tx, locked, options.prefix, [{ kind: 'text', text }], options.userId);
  }
  return {
    workspaceId: conversation.workspaceId,
    conversationId: conversation.id,
    channelId: conversation.channelId,
    chatId: conversation.chatId,
    ...(queued > 0 ? { idempotencyPrefix: options.prefix } : {}),
    ...(mode ? { mode } : {}),
    ...(escalation ? { escalation } : {}),
  };
}

/**
 * The `onClose` of PATCH /escalations/:id: a status change to resolved/cancelled made
 * through the escalations API gives the conversation back to the bot the same way. The bot
 * config is read here, before the caller's transaction; `apply` runs after its commit.
 */
export async function closeFromEscalation(
  ctx: RequestContext,
  options: { workspaceId: string; escalationId: string; userId: string | null },
) {
  const [target] = await ctx.db
    .select({ conversationId: escalations.conversationId })
    .from(escalations)
    .where(and(eq(escalations.workspaceId, options.workspaceId), eq(escalations.id, options.escalationId)));
  // No such escalation: the update that follows answers 404 and never calls onClose.
  const config = target ? await configOf(ctx, options.workspaceId, target.conversationId) : undefined;
  const pending: Effects[] = [];
  return {
    onClose: async (tx: DbOrTx, escalation: Escalation) => {
      if (!config) return;
      const locked = await lockConversation(tx, escalation.workspaceId, escalation.conversationId);
      const status = escalation.status === 'resolved' ? 'resolved' : 'cancelled';
      // The escalation row itself was already changed by the caller: only the conversation moves.
      const effects = await closeHandoff(
        ctx,
        tx,
        { ...locked, escalation: undefined },
        { status, config, prefix: `v${uuidv7()}`, userId: options.userId },
      );
      pending.push(effects);
    },
    apply: async () => {
      for (const effects of pending) await applyEffects(ctx, effects);
    },
  };
}

// ─── Operator messages ───────────────────────────────────────────────────────

export type OperatorReply =
  | { kind: 'text'; text: string }
  | { kind: 'photo'; photoUrl: string; caption?: string | undefined }
  | { kind: 'canned'; cannedResponseId: string };

/**
 * An operator's reply to the customer: written to the outbox (sender operator, paced like the
 * bot's), delivered after commit. Answers the open escalation (first response; pending →
 * contacted). 409 when another operator holds the conversation or the contact blocked the bot.
 * With `clientMessageId`, a retried request sends nothing twice.
 */
export async function sendOperatorMessage(
  ctx: RequestContext,
  options: {
    workspaceId: string;
    conversationId: string;
    userId: string | null;
    reply: OperatorReply;
    clientMessageId?: string | undefined;
  },
) {
  const prefix = options.clientMessageId ? `o:${options.clientMessageId}` : `o${uuidv7()}`;
  const result = await ctx.db.transaction(async (tx) => {
    const locked = await lockConversation(tx, options.workspaceId, options.conversationId);
    if (locked.holderId && locked.holderId !== options.userId)
      throw new AppError('CONFLICT', {
        message: 'Another operator holds this conversation; take it over first',
        details: { reason: 'held', holderId: locked.holderId },
      });
    if (locked.contact.status === 'blocked')
      throw new AppError('CONFLICT', { message: 'The customer blocked the bot; nothing can reach them' });
    const item = await itemOf(tx, options.workspaceId, options.reply);
    const queued = await queueOutgoing(tx, {
      channel: locked.channel,
      conversationId: locked.conversation.id,
      chatId: locked.conversation.chatId,
      idempotencyPrefix: prefix,
      sender: 'operator',
      senderUserId: options.userId,
      items: [item],
    });
    const written = await tx
      .select()
      .from(messages)
      .where(
        and(
          eq(messages.conversationId, locked.conversation.id),
          like(sql`${messages.payload}->>'idempotencyKey'`, `${prefix}:%`),
        ),
      )
      .orderBy(asc(messages.createdAt), asc(messages.id));
    let escalation: Effects['escalation'];
    if (queued > 0 && locked.escalation) {
      const now = new Date();
      const [after] = await tx
        .update(escalations)
        .set({
          firstResponseAt: locked.escalation.firstResponseAt ?? now,
          ...(locked.escalation.status === 'pending' ? { status: 'contacted' as const } : {}),
          updatedAt: now,
        })
        .where(eq(escalations.id, locked.escalation.id))
        .returning();
      if (after) {
        await auditChange(ctx, tx, locked.escalation, after);
        escalation = { before: locked.escalation, after };
      }
    }
    if (queued > 0) {
      await recordAudit(ctx, tx, {
        workspaceId: options.workspaceId,
        action: 'conversation.message',
        targetType: 'conversation',
        targetId: locked.conversation.id,
        after: { messageIds: written.map((message) => message.id), kind: options.reply.kind },
      });
    }
    const effects: Effects = {
      workspaceId: options.workspaceId,
      conversationId: locked.conversation.id,
      channelId: locked.conversation.channelId,
      chatId: locked.conversation.chatId,
      ...(queued > 0 ? { idempotencyPrefix: prefix } : {}),
      ...(escalation ? { escalation } : {}),
    };
    return { effects, written };
  });
  await applyEffects(ctx, result.effects);
  const [first] = result.written;
  if (!first) throw new AppError('INTERNAL', { message: 'No message was queued' });
  return first;
}

async function itemOf(tx: DbOrTx, workspaceId: string, reply: OperatorReply): Promise<OutgoingMessage> {
  if (reply.kind === 'text') return { kind: 'text', text: reply.text };
  if (reply.kind === 'photo')
    return { kind: 'photo', photo: reply.photoUrl, ...(reply.caption ? { caption: reply.caption } : {}) };
  const [canned] = await tx
    .select({ text: cannedResponses.text })
    .from(cannedResponses)
    .where(and(eq(cannedResponses.workspaceId, workspaceId), eq(cannedResponses.id, reply.cannedResponseId)));
  if (!canned) throw new AppError('BAD_REQUEST', { message: 'No such canned response in this workspace' });
  return { kind: 'text', text: canned.text };
}

// ─── Escalating from the panel ───────────────────────────────────────────────

/**
 * An operator raises an escalation on a conversation (source `operator`). The bot config's
 * escalation action applies as for the customer's own request. Idempotent: while one is open,
 * that one is returned (201 vs 200 tells them apart).
 */
export async function escalateFromPanel(
  ctx: RequestContext,
  options: {
    workspaceId: string;
    conversationId: string;
    userId: string | null;
    reason: string;
    priority?: Priority | undefined;
    productId?: string | undefined;
  },
) {
  const config = await configOf(ctx, options.workspaceId, options.conversationId);
  const result = await ctx.db.transaction(async (tx) => {
    const locked = await lockConversation(tx, options.workspaceId, options.conversationId);
    const action = config.escalationAction;
    const opened = await openEscalation(tx, {
      workspaceId: options.workspaceId,
      conversationId: options.conversationId,
      reason: options.reason,
      source: 'operator',
      action,
      priority: options.priority,
      productId: options.productId,
      createdBy: options.userId,
    });
    let mode: Effects['mode'];
    if (opened.created) {
      await recordAudit(ctx, tx, {
        workspaceId: options.workspaceId,
        action: 'escalation.create',
        targetType: 'escalation',
        targetId: opened.escalation.id,
        after: { reason: opened.escalation.reason, source: 'operator', action },
      });
      if (action === 'transfer' && locked.conversation.mode === 'bot') {
        await tx
          .update(conversations)
          .set({ mode: 'waiting' })
          .where(eq(conversations.id, options.conversationId));
        mode = { mode: 'waiting', holderId: null };
      }
    }
    return { opened, mode, channelId: locked.conversation.channelId, chatId: locked.conversation.chatId };
  });
  if (result.opened.created) {
    const { escalation } = result.opened;
    ctx.analytics.track({
      workspaceId: escalation.workspaceId,
      botId: escalation.botId,
      channelId: escalation.channelId,
      contactId: escalation.contactId,
      type: 'escalation_created',
      data: { reason: escalation.reason, source: 'operator', escalationId: escalation.id },
    });
    if (result.mode) {
      await applyEffects(ctx, {
        workspaceId: options.workspaceId,
        conversationId: options.conversationId,
        channelId: result.channelId,
        chatId: result.chatId,
        mode: result.mode,
      });
    }
    await afterEscalationOpened(ctx, escalation.id);
  }
  return {
    created: result.opened.created,
    escalation: await getEscalation(ctx, options.workspaceId, result.opened.escalation.id),
  };
}

// ─── State ───────────────────────────────────────────────────────────────────

/** A conversation's handoff state: mode, holder, open escalation. */
export async function handoffState(ctx: { db: DbOrTx }, workspaceId: string, conversationId: string) {
  const [row] = await ctx.db
    .select({
      conversationId: conversations.id,
      mode: conversations.mode,
      holderId: conversationHolders.userId,
      heldSince: conversationHolders.startedAt,
    })
    .from(conversations)
    .leftJoin(conversationHolders, eq(conversationHolders.conversationId, conversations.id))
    .where(and(eq(conversations.workspaceId, workspaceId), eq(conversations.id, conversationId)));
  if (!row) throw notFound('Conversation');
  const [open] = await ctx.db
    .select({ id: escalations.id, status: escalations.status, assigneeId: escalations.assigneeId })
    .from(escalations)
    .where(
      and(eq(escalations.conversationId, conversationId), inArray(escalations.status, [...OPEN_STATUSES])),
    );
  return { ...row, escalation: open ?? null };
}

// ─── Canned responses ────────────────────────────────────────────────────────

export async function listCannedResponses(ctx: { db: DbOrTx }, workspaceId: string) {
  return ctx.db
    .select()
    .from(cannedResponses)
    .where(eq(cannedResponses.workspaceId, workspaceId))
    .orderBy(asc(cannedResponses.shortcut));
}

export async function createCannedResponse(
  ctx: RequestContext,
  options: { workspaceId: string; shortcut: string; text: string; userId: string | null },
) {
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(cannedResponses)
      .values({
        workspaceId: options.workspaceId,
        shortcut: options.shortcut,
        text: options.text,
        createdBy: options.userId,
      })
      .onConflictDoNothing()
      .returning();
    if (!row)
      throw new AppError('CONFLICT', { message: `A canned response "${options.shortcut}" already exists` });
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'canned_response.create',
      targetType: 'canned_response',
      targetId: row.id,
      after: { shortcut: row.shortcut, text: row.text },
    });
    return row;
  });
}

export async function updateCannedResponse(
  ctx: RequestContext,
  options: { workspaceId: string; id: string; shortcut?: string | undefined; text?: string | undefined },
) {
  return ctx.db.transaction(async (tx) => {
    const where = and(
      eq(cannedResponses.workspaceId, options.workspaceId),
      eq(cannedResponses.id, options.id),
    );
    const [before] = await tx.select().from(cannedResponses).where(where).for('update');
    if (!before) throw notFound('Canned response');
    if (options.shortcut && options.shortcut !== before.shortcut) {
      const [taken] = await tx
        .select({ id: cannedResponses.id })
        .from(cannedResponses)
        .where(
          and(
            eq(cannedResponses.workspaceId, options.workspaceId),
            eq(cannedResponses.shortcut, options.shortcut),
          ),
        );
      if (taken)
        throw new AppError('CONFLICT', { message: `A canned response "${options.shortcut}" already exists` });
    }
    const [after] = await tx
      .update(cannedResponses)
      .set({
        updatedAt: new Date(),
        ...(options.shortcut === undefined ? {} : { shortcut: options.shortcut }),
        ...(options.text === undefined ? {} : { text: options.text }),
      })
      .where(where)
      .returning();
    if (!after) throw notFound('Canned response');
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'canned_response.update',
      targetType: 'canned_response',
      targetId: after.id,
      before: { shortcut: before.shortcut, text: before.text },
      after: { shortcut: after.shortcut, text: after.text },
    });
    return after;
  });
}

export async function deleteCannedResponse(ctx: RequestContext, workspaceId: string, id: string) {
  await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .delete(cannedResponses)
      .where(and(eq(cannedResponses.workspaceId, workspaceId), eq(cannedResponses.id, id)))
      .returning();
    if (!row) throw notFound('Canned response');
    await recordAudit(ctx, tx, {
      workspaceId,
      action: 'canned_response.delete',
      targetType: 'canned_response',
      targetId: id,
      before: { shortcut: row.shortcut, text: row.text },
    });
  });
}
