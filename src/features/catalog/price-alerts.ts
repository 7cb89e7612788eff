import { and, asc, desc, eq, gt, inArray, lt, or, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { AppContext, RequestContext } from '../../context.ts';
import { queueOutgoing } from '../../pipeline/outgoing.ts';
import { wakeWorkers } from '../../pipeline/wake.ts';
import type { DbOrTx } from '../../platform/db/index.ts';
import { AppError } from '../../platform/errors.ts';
import { decodeCursor, encodeCursor } from '../../platform/http/cursor.ts';
import { recordAudit } from '../audit/service.ts';
import { channels } from '../channels/schema.ts';
import { contacts, conversations } from '../conversations/schema.ts';
import { type PriceAlertStatus, priceAlerts, products } from './schema.ts';

/** The queue of price-alert checks: one job per price change, plus a repeatable sweep. */
export const PRICE_ALERT_QUEUE = 'catalog-price-alerts';

/** How often the repeatable sweep checks every active alert. */
export const PRICE_ALERT_SWEEP_MS = 60_000;

/** Alerts fired per page of a check. */
const CHECK_PAGE = 100;

/** Past this many changed products a check looks at every active alert instead of a list. */
const MAX_CHECK_IDS = 1000;

export type PriceAlert = typeof priceAlerts.$inferSelect;

// ─── Creating and cancelling ─────────────────────────────────────────────────

/**
 * Sets a customer's price alert on a product (from the assistant's `create_price_alert` tool
 * or a product card button). Idempotent per contact and product: an active alert is
 * re-targeted (`created: false`) rather than doubled. When the price already meets the
 * target, the check that follows notifies at once.
 */
export async function createPriceAlert(
  ctx: AppContext,
  options: {
    workspaceId: string;
    contactId: string;
    conversationId: string;
    productId: string;
    targetPrice: number;
  },
): Promise<{ alert: PriceAlert; created: boolean }> {
  const targetPrice = Math.round(options.targetPrice * 100) / 100;
  if (!Number.isFinite(targetPrice) || targetPrice < 0 || targetPrice > 999_999_999_999.99)
    throw new AppError('BAD_REQUEST', { message: 'The target price must be a non-negative amount' });
  const result = await ctx.db.transaction(async (tx) => {
    const [product] = await tx
      .select({ id: products.id, price: products.price, available: products.available })
      .from(products)
      .where(and(eq(products.workspaceId, options.workspaceId), eq(products.id, options.productId)));
    if (!product) throw new AppError('NOT_FOUND', { message: 'Product not found' });
    const [conversation] = await tx
      .select({ id: conversations.id })
      .from(conversations)
      .where(
        and(
          eq(conversations.workspaceId, options.workspaceId),
          eq(conversations.id, options.conversationId),
          eq(conversations.contactId, options.contactId),
        ),
      );
    if (!conversation) throw new AppError('NOT_FOUND', { message: 'Conversation of this contact not found' });
    const [row] = await tx
      .insert(priceAlerts)
      .values({
        workspaceId: options.workspaceId,
        contactId: options.contactId,
        conversationId: options.conversationId,
        productId: options.productId,
        targetPrice,
        priceAtCreation: product.price,
      })
      .onConflictDoUpdate({
        target: [priceAlerts.contactId, priceAlerts.productId],
        targetWhere: sql`status = 'active'`,
        set: {
          targetPrice,
          priceAtCreation: product.price,
          conversationId: options.conversationId,
          updatedAt: new Date(),
        },
      })
      // xmax is 0 on a freshly inserted row version and set on an updated one.
      .returning({ id: priceAlerts.id, inserted: sql<boolean>`(xmax = 0)` });
    if (!row) throw new AppError('INTERNAL', { message: 'Price alert not stored' });
    const [alert] = await tx.select().from(priceAlerts).where(eq(priceAlerts.id, row.id));
    if (!alert) throw new AppError('INTERNAL', { message: 'Price alert not stored' });
    return {
      alert,
      created: row.inserted === true,
      meetsTarget: product.available && product.price <= targetPrice,
    };
  });
  ctx.analytics.track({
    workspaceId: options.workspaceId,
    type: 'price_alert_created',
    contactId: options.contactId,
    data: { productId: options.productId, targetPrice, alertId: result.alert.id, created: result.created },
  });
  if (result.meetsTarget) await enqueuePriceAlertCheck(ctx, [options.productId]);
  return { alert: result.alert, created: result.created };
}

const alertColumns = {
  id: priceAlerts.id,
  contactId: priceAlerts.contactId,
  conversationId: priceAlerts.conversationId,
  productId: priceAlerts.productId,
  targetPrice: priceAlerts.targetPrice,
  priceAtCreation: priceAlerts.priceAtCreation,
  status: priceAlerts.status,
  firedPrice: priceAlerts.firedPrice,
  createdAt: priceAlerts.createdAt,
  firedAt: priceAlerts.firedAt,
  cancelledAt: priceAlerts.cancelledAt,
  product: { sku: products.sku, name: products.name, price: products.price, currency: products.currency },
  contact: {
    username: contacts.username,
    firstName: contacts.firstName,
    lastName: contacts.lastName,
  },
};

/** Price alerts of a workspace, newest first, with their product and contact. */
export async function findPriceAlerts(
  ctx: { db: DbOrTx },
  query: {
    workspaceId: string;
    productId?: string | undefined;
    contactId?: string | undefined;
    status?: PriceAlertStatus | undefined;
    limit: number;
    cursor?: string | undefined;
  },
) {
  const conditions: SQL[] = [eq(priceAlerts.workspaceId, query.workspaceId)];
  if (query.productId) conditions.push(eq(priceAlerts.productId, query.productId));
  if (query.contactId) conditions.push(eq(priceAlerts.contactId, query.contactId));
  if (query.status) conditions.push(eq(priceAlerts.status, query.status));
  const cursor = decodeCursor(query.cursor);
  const key = sql`date_trunc('milliseconds', ${priceAlerts.createdAt})`;
  if (cursor) {
    const at = sql`${cursor.createdAt.toISOString()}::timestamptz`;
    const older = or(lt(key, at), and(sql`${key} = ${at}`, lt(priceAlerts.id, cursor.id)));
    if (older) conditions.push(older);
  }
  const rows = await ctx.db
    .select(alertColumns)
    .from(priceAlerts)
    .innerJoin(products, eq(products.id, priceAlerts.productId))
    .innerJoin(contacts, eq(contacts.id, priceAlerts.contactId))
    .where(and(...conditions))
    .orderBy(desc(key), desc(priceAlerts.id))
    .limit(query.limit + 1);
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null };
}

async function getPriceAlertView(ctx: { db: DbOrTx }, workspaceId: string, alertId: string) {
  const [row] = await ctx.db
    .select(alertColumns)
    .from(priceAlerts)
    .innerJoin(products, eq(products.id, priceAlerts.productId))
    .innerJoin(contacts, eq(contacts.id, priceAlerts.contactId))
    .where(and(eq(priceAlerts.workspaceId, workspaceId), eq(priceAlerts.id, alertId)));
  if (!row) throw new AppError('NOT_FOUND', { message: 'Price alert not found' });
  return row;
}

/** Cancels an active alert (idempotent); a fired alert cannot be cancelled (409). */
export async function cancelPriceAlert(ctx: RequestContext, workspaceId: string, alertId: string) {
  await ctx.db.transaction(async (tx) => {
    const [before] = await tx
      .select({ status: priceAlerts.status })
      .from(priceAlerts)
      .where(and(eq(priceAlerts.workspaceId, workspaceId), eq(priceAlerts.id, alertId)))
      .for('update');
    if (!before) throw new AppError('NOT_FOUND', { message: 'Price alert not found' });
    if (before.status === 'cancelled') return;
    if (before.status === 'fired') throw new AppError('CONFLICT', { message: 'The alert has already fired' });
    await tx
      .update(priceAlerts)
      .set({ status: 'cancelled', cancelledAt: new Date(), updatedAt: new Date() })
      .where(eq(priceAlerts.id, alertId));
    await recordAudit(ctx, tx, {
      workspaceId,
      action: 'price_alert.cancel',
      targetType: 'price_alert',
      targetId: alertId,
      before,
      after: { status: 'cancelled' },
    });
  });
  return getPriceAlertView(ctx, workspaceId, alertId);
}

// ─── Checking and firing ─────────────────────────────────────────────────────

/**
 * Queues a check of the alerts on these products (all active alerts when none are given or
 * too many). Called after every price change through the API or an import.
 */
export async function enqueuePriceAlertCheck(ctx: AppContext, productIds?: string[]): Promise<void> {
  const ids = productIds && productIds.length <= MAX_CHECK_IDS ? [...new Set(productIds)] : undefined;
  if (ids && ids.length === 0) return;
  await ctx.ports.queue.add(PRICE_ALERT_QUEUE, ids ? { productIds: ids } : {});
}

const checkJobSchema = z.object({ productIds: z.array(z.uuid()).optional() });

/**
 * Consumes the price-alert queue on this instance and schedules the repeatable sweep. The
 * sweep looks at every active alert, not only at products changed since the last run: that is
 * a superset, as cheap (an index of active alerts joined by primary key), and it also fires
 * alerts whose triggering job was lost (an import from the CLI without Redis, a crash).
 */
export async function startCatalogWorkers(
  ctx: AppContext,
  options: { sweepEveryMs?: number } = {},
): Promise<void> {
  ctx.ports.queue.work<unknown>(PRICE_ALERT_QUEUE, async (job) => {
    const { productIds } = checkJobSchema.parse(job.data ?? {});
    await checkPriceAlerts(ctx, productIds);
  });
  await ctx.ports.queue.repeat(PRICE_ALERT_QUEUE, 'sweep', options.sweepEveryMs ?? PRICE_ALERT_SWEEP_MS, {});
}

/**
 * Fires every active alert (on `productIds`, or all) whose product is available at or below
 * the target: per alert, one transaction marks it fired — a conditional update, so of two
 * concurrent checks only one wins — and writes the customer's notification into the outbox
 * under the idempotency key `alert-<id>`. The senders are woken after the commit; if the wake
 * is lost, they find the row when they poll. Returns how many alerts fired.
 */
export async function checkPriceAlerts(ctx: AppContext, productIds?: string[]): Promise<number> {
  if (productIds && productIds.length === 0) return 0;
  let fired = 0;
  let after: string | undefined;
  for (;;) {
    const conditions: SQL[] = [
      eq(priceAlerts.status, 'active'),
      eq(products.available, true),
      sql`${products.price} <= ${priceAlerts.targetPrice}`,
    ];
    if (productIds) conditions.push(inArray(priceAlerts.productId, productIds));
    if (after) conditions.push(gt(priceAlerts.id, after));
    const due = await ctx.db
      .select({ id: priceAlerts.id })
      .from(priceAlerts)
      .innerJoin(products, eq(products.id, priceAlerts.productId))
      .where(and(...conditions))
      .orderBy(asc(priceAlerts.id))
      .limit(CHECK_PAGE);
    for (const { id } of due) {
      try {
        if (await fireAlert(ctx, id)) fired += 1;
      } catch (error) {
        // One broken alert (say, its channel is gone) must not stop the others.
        ctx.logger.error({ err: error, alertId: id }, 'price alert could not fire');
      }
    }
    const last = due.at(-1);
    if (!last || due.length < CHECK_PAGE) break;
    after = last.id;
  }
  return fired;
}

/** Fires one alert if it is still active and still due; true when this call fired it. */
async function fireAlert(ctx: AppContext, alertId: string): Promise<boolean> {
  const done = await ctx.db.transaction(async (tx) => {
    const [alert] = await tx
      .update(priceAlerts)
      .set({
        status: 'fired',
        firedAt: new Date(),
        updatedAt: new Date(),
        firedPrice: sql`(select ${products.price} from ${products} where ${products.id} = ${priceAlerts.productId})`,
      })
      .where(
        and(
          eq(priceAlerts.id, alertId),
          eq(priceAlerts.status, 'active'),
          sql`exists (select 1 from ${products} where ${products.id} = ${priceAlerts.productId}
            and ${products.available} and ${products.price} <= ${priceAlerts.targetPrice})`,
        ),
      )
      .returning();
    if (!alert) return undefined;
    const [row] = await tx
      .select({ product: products, conversation: conversations, channel: channels, contact: contacts })
      .from(conversations)
      .innerJoin(channels, eq(channels.id, conversations.channelId))
      .innerJoin(contacts, eq(contacts.id, conversations.contactId))
      .innerJoin(products, eq(products.id, alert.productId))
      .where(eq(conversations.id, alert.conversationId));
    if (!row) return undefined;
    const text = priceAlertText({
      language: row.contact.language ?? row.contact.languageCode,
      name: row.product.name,
      sku: row.product.sku,
      currency: row.product.currency,
      was: alert.priceAtCreation,
      now: alert.firedPrice ?? row.product.price,
      target: alert.targetPrice,
    });
    await queueOutgoing(tx, {
      channel: row.channel,
      conversationId: row.conversation.id,
      chatId: row.conversation.chatId,
      idempotencyPrefix: `alert-${alert.id}`,
      sender: 'system',
      items: [{ kind: 'text', text }],
    });
    return { alert, channelId: row.channel.id, chatId: row.conversation.chatId, botId: row.channel.botId };
  });
  if (!done) return false;
  wakeWorkers(ctx, 'send');
  ctx.analytics.track({
    workspaceId: done.alert.workspaceId,
    type: 'price_alert_fired',
    botId: done.botId,
    channelId: done.channelId,
    contactId: done.alert.contactId,
    data: {
      productId: done.alert.productId,
      price: done.alert.firedPrice,
      targetPrice: done.alert.targetPrice,
      alertId: done.alert.id,
    },
  });
  return true;
}

/** The customer's notification, in their language (Russian or English). */
export function priceAlertText(options: {
  language: string | null;
  name: string;
  sku: string;
  currency: string;
  was: number;
  now: number;
  target: number;
}): string {
  const ru = (options.language ?? '').toLowerCase().startsWith('ru');
  const money = (amount: number) => formatMoney(amount, options.currency, ru ? 'ru-RU' : 'en-US');
  const dropped = options.now < options.was;
  if (ru) {
    return dropped
      ? `🔔 Цена снизилась: «${options.name}» (${options.sku}) теперь стоит ${money(options.now)} вместо ${money(options.was)}. Вы просили сообщить, когда цена будет не выше ${money(options.target)}.`
      : `🔔 «${options.name}» (${options.sku}) стоит ${money(options.now)} — не выше вашей цели ${money(options.target)}.`;
  }
  return dropped
    ? `🔔 Price drop: “${options.name}” (${options.sku}) is now ${money(options.now)}, down from ${money(options.was)}. You asked to hear when it is ${money(options.target)} or less.`
    : `🔔 “${options.name}” (${options.sku}) costs ${money(options.now)} — at or below your target of ${money(options.target)}.`;
}

function formatMoney(amount: number, currency: string, locale: string): string {
  const whole = Number.isInteger(amount);
  try {
    return new Intl.NumberFormat(locale, {
      style: 'currency',
      currency,
      minimumFractionDigits: whole ? 0 : 2,
      maximumFractionDigits: 2,
    }).format(amount);
  } catch {
    return `${amount.toFixed(whole ? 0 : 2)} ${currency}`;
  }
}
