import { eq, sql } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { toStorableText, truncateText } from '../../platform/text.ts';
import { channels } from './schema.ts';

/**
 * How a skipped update reads in the channel's `lastError`. The poller clears errors of its
 * own (a failed getUpdates) once polling works again, but not these: an update was lost for
 * good, and the owner should see it until the channel is updated.
 */
const SKIPPED_PREFIX = 'Skipped update';

/** Longest `lastError` written for a skipped update; the rest is in the log. */
const MAX_MESSAGE_CHARS = 500;

/**
 * Records on the channel (`lastError`, shown in the panel and the API) that an update it
 * delivered could not be stored and was acknowledged anyway — a refused update would be
 * delivered again and again and hold every later update of the bot behind it. Returns the
 * message recorded. Never throws: the acknowledgement must not depend on this write.
 */
export async function recordSkippedUpdate(
  ctx: AppContext,
  channelId: string,
  skipped: { updateId?: number | undefined; reason: string },
): Promise<string> {
  const which = skipped.updateId === undefined ? '' : ` ${skipped.updateId}`;
  const message = truncateText(
    toStorableText(`${SKIPPED_PREFIX}${which}: ${skipped.reason}`),
    MAX_MESSAGE_CHARS,
  );
  ctx.logger.error({ channelId, updateId: skipped.updateId, reason: skipped.reason }, 'update skipped');
  try {
    await ctx.db
      .update(channels)
      // updated_at tracks configuration changes, not traffic.
      .set({ lastError: message, lastErrorAt: new Date(), updatedAt: sql`${channels.updatedAt}` })
      .where(eq(channels.id, channelId));
  } catch (error) {
    ctx.logger.error({ err: error, channelId }, 'recording a skipped update on the channel failed');
  }
  return message;
}

/** Whether a channel's `lastError` reports a skipped update (see SKIPPED_PREFIX). */
export function isSkippedUpdateMessage(message: string | null): boolean {
  return message?.startsWith(SKIPPED_PREFIX) ?? false;
}
