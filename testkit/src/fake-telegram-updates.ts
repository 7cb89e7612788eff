/**
 * One bot's incoming updates: the queue getUpdates reads from, and webhook delivery with retries.
 * Semantics follow the Bot API docs for getUpdates and setWebhook.
 */
import type { Update, WebhookInfo } from '@grammyjs/types';
import { TelegramError } from './fake-telegram-params.ts';

export type UpdateType = Exclude<keyof Update, 'update_id'>;

/**
 * - `pending`: waiting to be fetched or delivered;
 * - `sent`: returned by getUpdates or being POSTed, not yet confirmed;
 * - `acknowledged`: the webhook answered 2xx, or getUpdates confirmed it with a higher offset;
 * - `dropped`: discarded by drop_pending_updates or a negative offset;
 * - `filtered`: not in allowed_updates when it arrived, so Telegram never stored it.
 */
export type UpdateStatus = 'pending' | 'sent' | 'acknowledged' | 'dropped' | 'filtered';

/** What happened to one update pushed with `FakeTelegram#pushUpdate`. */
export interface DeliveryRecord {
  update: Update;
  status: UpdateStatus;
  /** Webhook POSTs made, or times getUpdates returned it. */
  attempts: number;
  lastError?: string;
}

export interface WebhookConfig {
  url: string;
  secretToken?: string;
  maxConnections: number;
  allowedUpdates?: UpdateType[];
}

export type DeliveryOutcome = { ok: true } | { ok: false; error: string };

export interface UpdateChannelOptions {
  /** POSTs one update to the webhook; must resolve, never reject. */
  deliver: (update: Update, webhook: WebhookConfig, signal: AbortSignal) => Promise<DeliveryOutcome>;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Deliver up to max_connections updates at once instead of strictly one after another. */
  parallel: boolean;
  onChange: () => void;
}

// "Specify an empty list to receive all update types except chat_member, message_reaction,
// and message_reaction_count (default)."
const OPT_IN_TYPES: ReadonlySet<string> = new Set([
  'chat_member',
  'message_reaction',
  'message_reaction_count',
]);

interface Poller {
  wake: () => void;
  fail: (error: TelegramError) => void;
}

export function updateTypeOf(update: Update): string | undefined {
  return Object.keys(update).find((key) => key !== 'update_id');
}

export class UpdateChannel {
  webhook: WebhookConfig | undefined;
  private nextUpdateId = 1;
  /** Not yet acknowledged nor dropped, in update_id order. */
  private queue: DeliveryRecord[] = [];
  private readonly records = new Map<number, DeliveryRecord>();
  private allowed: UpdateType[] | undefined;
  private lastError: { date: number; message: string } | undefined;
  private poller: Poller | undefined;
  private readonly inFlight = new Set<number>();
  private readonly retryAt = new Map<number, number>();
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly closing = new AbortController();

  constructor(private readonly options: UpdateChannelOptions) {}

  /** Assigns the next update_id and queues the update, unless allowed_updates excludes it. */
  push(partial: Omit<Update, 'update_id'>): Update {
    const update: Update = { ...partial, update_id: this.nextUpdateId++ };
    const record: DeliveryRecord = { update, status: 'pending', attempts: 0 };
    this.records.set(update.update_id, record);
    if (this.accepts(updateTypeOf(update))) {
      this.queue.push(record);
      this.poller?.wake();
      this.pump();
    } else {
      record.status = 'filtered';
    }
    this.options.onChange();
    return update;
  }

  async getUpdates(args: {
    offset?: number;
    limit: number;
    timeoutSeconds: number;
    allowedUpdates?: UpdateType[];
    signal: AbortSignal;
  }): Promise<Update[]> {
    if (this.webhook) {
      throw new TelegramError(
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
      );
    }
    if (args.allowedUpdates) this.setAllowed(args.allowedUpdates);
    if (args.offset !== undefined) this.confirm(args.offset);
    // Only one long poll may be open per bot; the older one loses.
    this.poller?.fail(
      new TelegramError(
        409,
        'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
      ),
    );
    if (this.queue.length === 0 && args.timeoutSeconds > 0 && !this.closing.signal.aborted) {
      await this.waitForUpdate(args.timeoutSeconds * 1000, args.signal);
    }
    if (args.signal.aborted) return [];
    const batch = this.queue.slice(0, args.limit);
    for (const record of batch) {
      record.status = 'sent';
      record.attempts += 1;
    }
    this.options.onChange();
    return batch.map((record) => record.update);
  }

  setWebhook(config: WebhookConfig, dropPending: boolean): void {
    if (dropPending) this.dropPending();
    if (this.webhook?.url !== config.url) this.lastError = undefined;
    this.webhook = config;
    if (config.allowedUpdates) this.setAllowed(config.allowedUpdates);
    this.poller?.fail(new TelegramError(409, 'Conflict: terminated by setWebhook request'));
    this.pump();
  }

  /** Returns whether a webhook was set. Pending updates stay queued for getUpdates. */
  deleteWebhook(dropPending: boolean): boolean {
    const hadWebhook = this.webhook !== undefined;
    this.webhook = undefined;
    this.lastError = undefined;
    if (dropPending) this.dropPending();
    return hadWebhook;
  }

  info(): WebhookInfo {
    const info: WebhookInfo = {
      url: this.webhook?.url ?? '',
      has_custom_certificate: false,
      pending_update_count: this.queue.length,
    };
    if (this.webhook) {
      info.ip_address = '127.0.0.1';
      info.max_connections = this.webhook.maxConnections;
      if (this.allowed) info.allowed_updates = [...this.allowed];
    }
    if (this.lastError) {
      info.last_error_date = this.lastError.date;
      info.last_error_message = this.lastError.message;
    }
    return info;
  }

  allRecords(): DeliveryRecord[] {
    return [...this.records.values()].map((record) => ({ ...record }));
  }

  record(updateId: number): DeliveryRecord | undefined {
    const record = this.records.get(updateId);
    return record ? { ...record } : undefined;
  }

  close(): void {
    this.closing.abort();
    clearTimeout(this.retryTimer);
    this.poller?.wake();
  }

  private accepts(type: string | undefined): boolean {
    if (type === undefined) return false;
    return this.allowed ? this.allowed.some((allowed) => allowed === type) : !OPT_IN_TYPES.has(type);
  }

  private setAllowed(types: UpdateType[]): void {
    this.allowed = types.length > 0 ? [...types] : undefined;
  }

  /**
   * "An update is considered confirmed as soon as getUpdates is called with an offset higher than
   * its update_id. The negative offset can be specified to retrieve updates starting from -offset
   * update from the end of the updates queue. All previous updates will be forgotten."
   */
  private confirm(offset: number): void {
    if (offset > 0) {
      for (const record of this.queue) if (record.update.update_id < offset) record.status = 'acknowledged';
      this.queue = this.queue.filter((record) => record.update.update_id >= offset);
    } else if (offset < 0) {
      const keep = this.queue.slice(offset);
      for (const record of this.queue.slice(0, this.queue.length - keep.length)) record.status = 'dropped';
      this.queue = keep;
    }
  }

  private dropPending(): void {
    for (const record of this.queue) record.status = 'dropped';
    this.queue = [];
  }

  private waitForUpdate(timeoutMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const finish = (error?: TelegramError) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (this.poller === poller) this.poller = undefined;
        if (error) reject(error);
        else resolve();
      };
      const onAbort = () => finish();
      const poller: Poller = { wake: () => finish(), fail: (error) => finish(error) };
      const timer = setTimeout(finish, timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.poller = poller;
    });
  }

  /** Starts whatever webhook deliveries are due, respecting order and max_connections. */
  private pump(): void {
    const webhook = this.webhook;
    if (!webhook || this.closing.signal.aborted) return;
    const capacity = this.options.parallel ? webhook.maxConnections : 1;
    const now = Date.now();
    let nextRetry = Number.POSITIVE_INFINITY;
    for (const record of this.queue) {
      if (this.inFlight.size >= capacity) break;
      const id = record.update.update_id;
      if (!this.inFlight.has(id)) {
        const due = this.retryAt.get(id) ?? 0;
        if (due > now) nextRetry = Math.min(nextRetry, due);
        else this.start(record, webhook);
      }
      // Sequential delivery: nothing overtakes the head of the queue, not even while it is retried.
      if (!this.options.parallel) break;
    }
    clearTimeout(this.retryTimer);
    if (Number.isFinite(nextRetry)) this.retryTimer = setTimeout(() => this.pump(), nextRetry - now);
  }

  private start(record: DeliveryRecord, webhook: WebhookConfig): void {
    const id = record.update.update_id;
    this.inFlight.add(id);
    record.status = 'sent';
    record.attempts += 1;
    void this.options.deliver(record.update, webhook, this.closing.signal).then((outcome) => {
      this.inFlight.delete(id);
      if (this.closing.signal.aborted) return;
      if (outcome.ok) {
        record.status = 'acknowledged';
        this.retryAt.delete(id);
        this.queue = this.queue.filter((queued) => queued !== record);
      } else {
        if (record.status === 'sent') record.status = 'pending';
        record.lastError = outcome.error;
        this.lastError = { date: Math.floor(Date.now() / 1000), message: outcome.error };
        const backoff = this.options.retryBaseMs * 2 ** (record.attempts - 1);
        this.retryAt.set(id, Date.now() + Math.min(backoff, this.options.retryMaxMs));
      }
      this.options.onChange();
      this.pump();
    });
  }
}
