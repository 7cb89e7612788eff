import type { AppContext } from '../context.ts';
import { toStorableRecord, toStorableText } from '../platform/text.ts';
import { pipelineMetrics } from './metrics.ts';
import { inboxUpdates } from './schema.ts';

/** One update as a channel delivered it, ready to store. */
export interface InboundUpdate {
  channelId: string;
  updateId: number;
  /** Processing order key: updates of one chat are processed one after another. */
  chatKey: string;
  updateType: string;
  payload: Record<string, unknown>;
}

export interface StoredUpdate {
  inboxId: number;
  channelId: string;
  chatKey: string;
}

export interface Ingest {
  /**
   * Stores updates durably; resolves once they are committed (then the webhook may answer
   * 200). Updates already stored (Telegram redelivering) are ignored. Text PostgreSQL cannot
   * store (NUL, lone surrogates) is stored with U+FFFD in its place. Rejects with
   * `UnstorableUpdatesError` when the database refused some of these updates for their
   * content (the others are stored; storing them again would fail the same way), and with the
   * database's error when it could not be reached (nothing is lost: try again).
   */
  accept(updates: InboundUpdate[]): Promise<void>;
  /** Waits for the batch in flight. */
  drain(): Promise<void>;
}

/**
 * Some updates of an `accept` call were refused by the database for what they contain; the
 * call's other updates are stored. Retrying cannot help: acknowledge, log and record them.
 */
export class UnstorableUpdatesError extends Error {
  readonly updateIds: number[];
  constructor(updateIds: number[], cause: unknown) {
    super(`the database refused update(s) ${updateIds.join(', ')}`, { cause });
    this.name = 'UnstorableUpdatesError';
    this.updateIds = updateIds;
  }
}

interface Waiter {
  updates: InboundUpdate[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Rows per INSERT; 8 columns each stays far below PostgreSQL's 65,535 parameters. */
const MAX_BATCH_ROWS = 1000;

/**
 * Group commit: concurrent webhook requests share one multi-row INSERT … ON CONFLICT DO
 * NOTHING. While one batch is being written, new arrivals gather for the next, so under load
 * a round trip carries hundreds of updates (PGlite here: ~2,000 single-row inserts/s against
 * ~50,000 rows/s in batches), and an idle server still writes a lone update at once.
 *
 * `onStored` (the processors' wake) is called after each commit that stored new rows and must
 * not block: awaiting a signal in the commit loop once made every later webhook wait for it —
 * with Redis down the second webhook took 13 s and the third over 40 s, and Telegram holds a
 * bot's updates behind an unanswered webhook. The processors poll too, so a lost signal only
 * delays.
 */
export function createIngest(ctx: AppContext, options: { onStored: () => void }): Ingest {
  const pending: Waiter[] = [];
  let flushing: Promise<void> | undefined;

  const flush = async (): Promise<void> => {
    while (pending.length > 0) {
      const batch: Waiter[] = [];
      let rows = 0;
      while (pending.length > 0 && rows < MAX_BATCH_ROWS) {
        const next = pending.shift();
        if (!next) break;
        batch.push(next);
        rows += next.updates.length;
      }
      const updates = dedupe(batch.flatMap((waiter) => waiter.updates));
      let written: WriteOutcome;
      try {
        written = await writeRows(ctx, updates);
      } catch (error) {
        for (const waiter of batch) waiter.reject(error);
        continue;
      }
      const { updatesIngested } = pipelineMetrics(ctx);
      updatesIngested.labels('stored').inc(written.stored.length);
      updatesIngested.labels('refused').inc(written.refused.size);
      updatesIngested.labels('duplicate').inc(updates.length - written.stored.length - written.refused.size);
      for (const waiter of batch) settle(waiter, written.refused);
      // After the commit and the acknowledgements: a crash before the signal leaves rows the
      // processor polls for.
      if (written.stored.length > 0) options.onStored();
    }
  };

  const kick = () => {
    flushing ??= flush().finally(() => {
      flushing = undefined;
      if (pending.length > 0) kick();
    });
  };

  return {
    accept(updates) {
      if (updates.length === 0) return Promise.resolve();
      // Made storable here, on the caller's turn, so that the commit loop only writes.
      const storable = updates.map(toStorableUpdate);
      return new Promise<void>((resolve, reject) => {
        pending.push({ updates: storable, resolve, reject });
        kick();
      });
    },
    async drain() {
      while (flushing) await flushing;
    },
  };
}

function settle(waiter: Waiter, refused: Map<string, unknown>) {
  const failed = waiter.updates.filter((update) => refused.has(keyOf(update)));
  const [first] = failed;
  if (!first) {
    waiter.resolve();
    return;
  }
  waiter.reject(
    new UnstorableUpdatesError(
      failed.map((update) => update.updateId),
      refused.get(keyOf(first)),
    ),
  );
}

function toStorableUpdate(update: InboundUpdate): InboundUpdate {
  return {
    channelId: update.channelId,
    updateId: update.updateId,
    chatKey: toStorableText(update.chatKey),
    updateType: toStorableText(update.updateType),
    payload: toStorableRecord(update.payload),
  };
}

function keyOf(update: InboundUpdate): string {
  return `${update.channelId}:${update.updateId}`;
}

function dedupe(updates: InboundUpdate[]): InboundUpdate[] {
  // One INSERT … ON CONFLICT may not touch a row twice; a redelivery racing its original in
  // the same batch is dropped here.
  const seen = new Set<string>();
  return updates.filter((update) => {
    const key = keyOf(update);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ─── Writing, one bad row failing alone ─────────────────────────────────────

interface WriteOutcome {
  stored: StoredUpdate[];
  /** Rows the database refused for their content, by `keyOf`, with its error. */
  refused: Map<string, unknown>;
}

/**
 * Writes the rows in one INSERT; when the database refuses it for a row's content, the rows
 * are written again in halves, and so on, so only the refused rows fail — never their
 * neighbours (3 bad updates among 120 once made 47 good ones fail). A few bad rows among n
 * cost about 2·log2(n) statements per bad row. An outage (connection lost, database shutting
 * down) is not split: every row would fail the same way, so it fails the batch at once.
 */
async function writeRows(ctx: AppContext, updates: InboundUpdate[]): Promise<WriteOutcome> {
  const outcome: WriteOutcome = { stored: [], refused: new Map() };
  const write = async (rows: InboundUpdate[]): Promise<void> => {
    if (rows.length === 0) return;
    try {
      outcome.stored.push(...(await insertRows(ctx, rows)));
    } catch (error) {
      if (!isRefusedContent(error)) throw error;
      const [only] = rows;
      if (rows.length === 1 && only) {
        outcome.refused.set(keyOf(only), error);
        ctx.logger.error(
          { err: error, channelId: only.channelId, updateId: only.updateId },
          'the database refused an update; it is acknowledged and skipped',
        );
        return;
      }
      const middle = Math.ceil(rows.length / 2);
      await write(rows.slice(0, middle));
      await write(rows.slice(middle));
    }
  };
  await write(updates);
  return outcome;
}

async function insertRows(ctx: AppContext, updates: InboundUpdate[]): Promise<StoredUpdate[]> {
  return ctx.db
    .insert(inboxUpdates)
    .values(
      updates.map((update) => ({
        channelId: update.channelId,
        updateId: update.updateId,
        chatKey: update.chatKey,
        updateType: update.updateType,
        payload: update.payload,
      })),
    )
    .onConflictDoNothing({ target: [inboxUpdates.channelId, inboxUpdates.updateId] })
    .returning({
      inboxId: inboxUpdates.id,
      channelId: inboxUpdates.channelId,
      chatKey: inboxUpdates.chatKey,
    });
}

/**
 * SQLSTATE classes of a failure that is the database's state, not a row's content: 08
 * connection, 40 rollback (serialization, deadlock), 53 resources, 55 object not in
 * prerequisite state (lock not available), 57 operator intervention (shutdown), 58 system
 * error. Every other refusal (22 data, 23 integrity, 54 limits, a value the driver cannot
 * serialize…) may belong to one row, so the batch is split to find it.
 */
const OUTAGE_CLASSES = new Set(['08', '40', '53', '55', '57', '58']);
const OUTAGE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

function isRefusedContent(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 4; depth++) {
    if (typeof current === 'object' && 'code' in current && typeof current.code === 'string') {
      const { code } = current;
      if (OUTAGE_ERRNO.has(code)) return false;
      if (/^[0-9A-Z]{5}$/.test(code)) return !OUTAGE_CLASSES.has(code.slice(0, 2));
    }
    current = current instanceof Error ? current.cause : undefined;
  }
  // No SQLSTATE: node-postgres reports a lost or closed connection by message only.
  const message = error instanceof Error ? error.message : String(error);
  return !/connect|terminat|timeout|closed|shut ?down|not queryable/i.test(message);
}
