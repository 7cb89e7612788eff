import { z } from 'zod';
import type { AppContext } from '../../context.ts';

/**
 * The pub/sub channel on which a channel's creation, change or deletion is announced, so
 * pollers on every instance start or stop at once instead of at their next resync.
 */
export const CHANNELS_CHANNEL = 'channels';

export const channelChangeSchema = z.object({ channelId: z.uuid() });

/** Announces a committed change of a channel; never throws (pollers resync periodically anyway). */
export async function announceChannelChange(
  ctx: Pick<AppContext, 'ports' | 'logger'>,
  channelId: string,
): Promise<void> {
  try {
    await ctx.ports.pubsub.publish(CHANNELS_CHANNEL, { channelId });
  } catch (error) {
    ctx.logger.error({ err: error, channelId }, 'announcing a channel change failed');
  }
}
