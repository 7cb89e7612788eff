import { eq } from 'drizzle-orm';
import type { AppContext } from '../context.ts';
import { CHANNELS_CHANNEL, channelChangeSchema } from '../features/channels/channel-events.ts';
import { channels } from '../features/channels/schema.ts';

export type Channel = typeof channels.$inferSelect;

export interface ChannelCache {
  /** The channel row, from memory when recently read; undefined when it does not exist. */
  get(channelId: string): Promise<Channel | undefined>;
  close(): Promise<void>;
}

/**
 * Every update and every send needs its channel row (credentials, bot, workspace). Reading it
 * once per update was a tenth of the pipeline's queries; it is kept here and dropped on the
 * `channels` pub/sub announcement any instance makes on a change, with a short TTL as a net.
 */
export async function createChannelCache(
  ctx: AppContext,
  options: { ttlMs?: number } = {},
): Promise<ChannelCache> {
  const ttlMs = options.ttlMs ?? 30_000;
  const entries = new Map<string, { channel: Channel; at: number }>();
  const unsubscribe = await ctx.ports.pubsub.subscribe(CHANNELS_CHANNEL, (message) => {
    const parsed = channelChangeSchema.safeParse(message);
    if (parsed.success) entries.delete(parsed.data.channelId);
  });
  return {
    async get(channelId) {
      const hit = entries.get(channelId);
      if (hit && Date.now() - hit.at < ttlMs) return hit.channel;
      const [channel] = await ctx.db.select().from(channels).where(eq(channels.id, channelId));
      if (channel) entries.set(channelId, { channel, at: Date.now() });
      else entries.delete(channelId);
      return channel;
    },
    close: unsubscribe,
  };
}
