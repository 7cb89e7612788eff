import { createAssistant } from '../assistant/create-assistant.ts';
import { deliverTelegram, downloadTelegramFile } from '../channels/telegram/client.ts';
import { chatKeyOf, updateTypeOf } from '../channels/telegram/normalize.ts';
import type { AppContext } from '../context.ts';
import { startCatalogWorkers } from '../features/catalog/price-alerts.ts';
import type { TelegramUpdatesHandler } from '../features/channels/telegram-poller.ts';
import { startBroadcastWorker } from '../features/conversations/service.ts';
import { startEscalationJobs } from '../features/escalations/jobs.ts';
import { startKnowledgeWorker } from '../features/knowledge/ingest.ts';
import { publishDeliveryStatus } from '../features/realtime/publish.ts';
import { type ChannelCache, createChannelCache } from './channel-cache.ts';
import { createIngest, findStaleUpdates, type Ingest } from './ingest.ts';
import { observeQueues } from './metrics.ts';
import { enqueueProcessing, PROCESS_QUEUE, startProcessor } from './processor.ts';
import { enqueueSend, type PacingLimits, SEND_QUEUE, startSender, sweepOutbox } from './sender.ts';
import type { Responder } from './simple-responder.ts';

export const SWEEP_QUEUE = 'pipeline-sweep';

export interface Pipeline {
  ingest: Ingest;
  /** Channel rows by id, cached and dropped on any instance's change announcement. */
  channels: ChannelCache;
  /** Feeds long-polled Telegram updates into the same ingest as the webhook. */
  onTelegramUpdates: TelegramUpdatesHandler;
}

export interface PipelineOptions {
  responder?: Responder;
  /** Consume the queues on this instance (roles worker and all). */
  work: boolean;
  pacing?: PacingLimits;
  /** How old a pending update or outbox row must be before the sweeper re-enqueues it. */
  sweepAfterMs?: number;
}

/**
 * The responder the pipeline answers customers with unless `PipelineOptions.responder` says
 * otherwise. The bot playground (src/features/bots/playground.ts) calls it too, so the panel
 * previews exactly what customers would get.
 */
export function createDefaultResponder(ctx: AppContext): Responder {
  return createAssistant(ctx);
}

/**
 * Wires the message pipeline: ingest (group commit into the inbox) → process queue (in order
 * per chat) → outbox → send queue (paced) — plus a sweeper that re-enqueues anything a crash
 * left behind, so a restart recovers without losing or repeating work.
 */
export async function startPipeline(ctx: AppContext, options: PipelineOptions): Promise<Pipeline> {
  const channels = await createChannelCache(ctx);
  observeQueues(ctx, [PROCESS_QUEUE, SEND_QUEUE, SWEEP_QUEUE]);
  const ingest = createIngest(ctx, { onStored: (rows) => enqueueProcessing(ctx, rows) });
  if (options.work) {
    startProcessor(ctx, {
      responder: options.responder ?? createDefaultResponder(ctx),
      loadBot: (botId) => ctx.botConfigs.getPublished(botId),
      channels,
      downloadFile: (channel, fileId) => downloadTelegramFile(ctx, channel, fileId),
      onOutbox: (channelId, chatId) => enqueueSend(ctx, channelId, chatId),
    });
    startSender(
      ctx,
      {
        channels,
        deliver: (channel, method, params) => deliverTelegram(ctx, channel, method, params),
        onDelivered: (row, status) => publishDeliveryStatus(ctx, row, status),
      },
      { pacing: options.pacing },
    );
    startBroadcastWorker(ctx);
    await startEscalationJobs(ctx);
    await startCatalogWorkers(ctx);
    await startKnowledgeWorker(ctx);
    const sweepAfterMs = options.sweepAfterMs ?? 5000;
    ctx.ports.queue.work(SWEEP_QUEUE, async () => {
      await enqueueProcessing(ctx, await findStaleUpdates(ctx, sweepAfterMs));
      await sweepOutbox(ctx, sweepAfterMs);
    });
    await ctx.ports.queue.repeat(SWEEP_QUEUE, 'sweep', Math.max(1000, sweepAfterMs), {});
  }
  return {
    ingest,
    channels,
    onTelegramUpdates: (channel, updates) =>
      ingest.accept(
        updates.map((update) => {
          const payload: Record<string, unknown> = { ...update };
          return {
            channelId: channel.id,
            updateId: update.update_id,
            chatKey: chatKeyOf(payload),
            updateType: updateTypeOf(payload),
            payload,
          };
        }),
      ),
  };
}
