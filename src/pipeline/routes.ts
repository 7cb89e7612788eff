import { z } from 'zod';
import { chatKeyOf, telegramUpdateSchema, updateTypeOf } from '../channels/telegram/normalize.ts';
import { safeEqual } from '../platform/crypto.ts';
import { AppError } from '../platform/errors.ts';
import type { App } from '../platform/http/create-server.ts';
import { errorBody } from '../platform/http/schemas.ts';
import type { Pipeline } from './index.ts';

const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

/** Telegram's webhook: check the secret, store the update durably, answer 200. */
export function registerPipelineRoutes(app: App, pipeline: Pipeline) {
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
      // The pipeline's channel cache: every update of a busy bot needs the secret, and a
      // channel change announced by any instance drops the entry at once.
      const channel = await pipeline.channels.get(request.params.channelId);
      if (!channel || channel.status === 'disabled')
        throw new AppError('NOT_FOUND', { message: 'No such channel' });
      const expected = channel.webhookSecret;
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
