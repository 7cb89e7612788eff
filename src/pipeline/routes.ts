import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { chatKeyOf, telegramUpdateSchema, updateTypeOf } from '../channels/telegram/normalize.ts';
import type { AppContext } from '../context.ts';
import { channels } from '../features/channels/schema.ts';
import { safeEqual } from '../platform/crypto.ts';
import { AppError } from '../platform/errors.ts';
import type { App } from '../platform/http/create-server.ts';
import { errorBody } from '../platform/http/schemas.ts';
import type { Pipeline } from './index.ts';

const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

/** Channel id → webhook secret, briefly cached: every update of a busy bot needs it. */
function createSecretLookup(ctx: AppContext) {
  const cache = new Map<string, { secret: string | null; at: number }>();
  return async (channelId: string): Promise<string | null | undefined> => {
    const hit = cache.get(channelId);
    if (hit && Date.now() - hit.at < 10_000) return hit.secret;
    const [row] = await ctx.db
      .select({ secret: channels.webhookSecret, status: channels.status })
      .from(channels)
      .where(eq(channels.id, channelId));
    if (!row || row.status === 'disabled') {
      cache.delete(channelId);
      return undefined;
    }
    cache.set(channelId, { secret: row.secret, at: Date.now() });
    return row.secret;
  };
}

/** Telegram's webhook: check the secret, store the update durably, answer 200. */
export function registerPipelineRoutes(app: App, ctx: AppContext, pipeline: Pipeline) {
  const secretOf = createSecretLookup(ctx);
  app.post(
    '/hooks/telegram/:channelId',
    {
      config: { access: 'public' },
      schema: {
        tags: ['webhooks'],
        summary: 'Telegram webhook (set by Switchboard with a secret token)',
        description:
          'Answers 200 only after the update is committed; a redelivered update_id is acknowledged and ignored. Wrong or missing X-Telegram-Bot-Api-Secret-Token → 401.',
        params: z.object({ channelId: z.uuid() }),
        body: telegramUpdateSchema,
        response: { 200: z.object({ ok: z.literal(true) }), 400: errorBody, 401: errorBody, 404: errorBody },
      },
    },
    async (request) => {
      const expected = await secretOf(request.params.channelId);
      if (expected === undefined) throw new AppError('NOT_FOUND', { message: 'No such channel' });
      const given = request.headers[SECRET_HEADER];
      if (!expected || typeof given !== 'string' || !safeEqual(given, expected)) {
        request.log.warn(
          { channelId: request.params.channelId },
          'telegram webhook with a wrong or missing secret',
        );
        throw new AppError('UNAUTHENTICATED', { message: 'Wrong or missing secret token' });
      }
      const update = request.body;
      await pipeline.ingest.accept([
        {
          channelId: request.params.channelId,
          updateId: update.update_id,
          chatKey: chatKeyOf(update),
          updateType: updateTypeOf(update),
          payload: update,
        },
      ]);
      return { ok: true as const };
    },
  );
}
