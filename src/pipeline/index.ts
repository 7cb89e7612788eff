import { createAssistant } from '../assistant/create-assistant.ts';
import { deliverTelegram, downloadTelegramFile } from '../channels/telegram/client.ts';
import { chatKeyOf, updateTypeOf } from '../channels/telegram/normalize.ts';
import type { AppContext } from '../context.ts';
import { PRICE_ALERT_QUEUE, startCatalogWorkers } from '../features/catalog/price-alerts.ts';
import type { TelegramUpdatesHandler } from '../features/channels/telegram-poller.ts';
import { BROADCAST_QUEUE, startBroadcastWorker } from '../features/conversations/service.ts';
import { startEscalationJobs } from '../features/escalations/jobs.ts';
import { KNOWLEDGE_QUEUE, startKnowledgeWorker } from '../features/knowledge/ingest.ts';
import { publishDeliveryStatus } from '../features/realtime/publish.ts';
import { type ChannelCache, createChannelCache } from './channel-cache.ts';
import { createIngest, type Ingest } from './ingest.ts';
import { observeQueues, pipelineBacklog } from './metrics.ts';
import { startProcessor } from './processor.ts';
import { type PacingLimits, startSender } from './sender.ts';
import type { Responder } from './simple-responder.ts';
import { wakeWorkers } from './wake.ts';

export interface Pipeline {
  ingest: Ingest;
  /** Channel rows by id, cached and dropped on any instance's change announcement. */
  channels: ChannelCache;
  /** Feeds long-polled Telegram updates into the same ingest as the webhook. */
  onTelegramUpdates: TelegramUpdatesHandler;
  /** Stops this instance's pipeline loops, letting work in flight finish (the app's onClose). */
  stop(): Promise<void>;
}

export interface PipelineOptions {
  responder?: Responder;
  /** Consume the queues on this instance (roles worker and all). */
  work: boolean;
  pacing?: PacingLimits;
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
 * Wires the message pipeline: ingest (group commit into the inbox) → processor (batches of
 * chats under leases, in order per chat) → outbox → sender (paced per bot and chat). Both
 * loops poll the database and are woken early over pub/sub, so whatever a crash left behind
 * is picked up again once its lease runs out — nothing lost, nothing repeated.
 */
export async function startPipeline(ctx: AppContext, options: PipelineOptions): Promise<Pipeline> {
  const channels = await createChannelCache(ctx);
  observeQueues(ctx, [BROADCAST_QUEUE, KNOWLEDGE_QUEUE, PRICE_ALERT_QUEUE], () => pipelineBacklog(ctx));
  const ingest = createIngest(ctx, { onStored: () => wakeWorkers(ctx, 'process') });
  /** Stops of the loops started here, run in reverse order. */
  const stops: Array<() => Promise<void>> = [];
  if (options.work) {
    const processor = startProcessor(ctx, {
      responder: options.responder ?? createDefaultResponder(ctx),
      loadBot: (botId) => ctx.botConfigs.getPublished(botId),
      channels,
      downloadFile: (channel, fileId) => downloadTelegramFile(ctx, channel, fileId),
    });
    stops.push(processor.stop);
    const sender = startSender(
      ctx,
      {
        channels,
        deliver: (channel, method, params) => deliverTelegram(ctx, channel, method, params),
        onDelivered: (row, status) => publishDeliveryStatus(ctx, row, status),
      },
      { pacing: options.pacing },
    );
    stops.push(sender.stop);
    startBroadcastWorker(ctx);
    await startEscalationJobs(ctx);
    await startCatalogWorkers(ctx);
    await startKnowledgeWorker(ctx);
  }
  return {
    ingest,
    channels,
    async stop() {
      for (const stop of stops.splice(0).reverse()) await stop();
    },
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
