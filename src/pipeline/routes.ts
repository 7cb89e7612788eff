import { z } from 'zod';
import { chatKeyOf, telegramUpdateSchema, updateTypeOf } from '../channels/telegram/normalize.ts';
import type { AppContext } from '../context.ts';
import { recordSkippedUpdate } from '../features/channels/skipped-updates.ts';
import { safeEqual } from '../platform/crypto.ts';
import { AppError } from '../platform/errors.ts';
import type { App } from '../platform/http/create-server.ts';
import { errorBody } from '../platform/http/schemas.ts';
import { truncateText } from '../platform/text.ts';
import type { Pipeline } from './index.ts';
import { UnstorableUpdatesError } from './ingest.ts';

const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

const webhookParams = z.object({ channelId: z.uuid() });

/** How much of an unreadable body goes into the log. */
const BODY_EXCERPT_CHARS = 300;

/**
 * Telegram's webhook: check the secret, store the update durably, answer 200.
 *
 * Once the secret matches, every update is acknowledged: Telegram redelivers an update it
 * got no 2xx for and holds all later updates of the bot behind it, so a 4xx for one odd
 * update would stall the bot. What cannot be stored (a body that is not JSON, an update
 * without a numeric update_id, a row the database refuses) is logged and recorded as the
 * channel's `lastError` instead. Only an outage (database unreachable) answers 5xx, so that
 * Telegram tries again later and nothing is lost.
 */
export function registerPipelineRoutes(app: App, ctx: AppContext, pipeline: Pipeline) {
  // Its own scope: the lenient JSON parser below must not replace every other route's.
  app.register(async (scope) => {
    const parseJson = scope.getDefaultJsonParser('remove', 'remove');
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      // The API-wide parser answers 400 to text that is not JSON; here the body goes on as
      // a string, the secret is checked, and the handler acknowledges and records it.
      const text = typeof body === 'string' ? body : body.toString('utf8');
      void parseJson(request, text, (error, value) => done(null, error ? text : value));
    });

    scope.post(
      '/hooks/telegram/:channelId',
      {
        config: { access: 'public', channelWebhook: true },
        // Schema violations of the body reach the handler, which answers them after the
        // secret check (see above) instead of the API-wide 400.
        attachValidation: true,
        schema: {
          tags: ['webhooks'],
          summary: 'Telegram webhook (set by Switchboard with a secret token)',
          description:
            "Answers 200 only after the update is committed; a redelivered update_id is acknowledged and ignored. Wrong or missing X-Telegram-Bot-Api-Secret-Token → 401. With the right secret every body is acknowledged: text PostgreSQL cannot store is stored with U+FFFD, and what cannot be stored at all is recorded as the channel's lastError.",
          params: webhookParams,
          body: telegramUpdateSchema,
          response: {
            200: z.object({ ok: z.literal(true) }),
            400: errorBody,
            401: errorBody,
            404: errorBody,
          },
        },
      },
      async (request) => {
        const invalid = request.validationError;
        if (invalid && invalid.validationContext !== 'body') throw invalid;
        // With attachValidation the params are not typed as validated: read them again.
        const params = webhookParams.safeParse(request.params);
        if (!params.success) throw new AppError('NOT_FOUND', { message: 'No such channel' });
        const { channelId } = params.data;
        // The pipeline's channel cache: every update of a busy bot needs the secret, and a
        // channel change announced by any instance drops the entry at once.
        const channel = await pipeline.channels.get(channelId);
        if (!channel || channel.status === 'disabled')
          throw new AppError('NOT_FOUND', { message: 'No such channel' });
        const expected = channel.webhookSecret;
        const given = request.headers[SECRET_HEADER];
        if (!expected || typeof given !== 'string' || !safeEqual(given, expected)) {
          request.log.warn({ channelId }, 'telegram webhook with a wrong or missing secret');
          throw new AppError('UNAUTHENTICATED', { message: 'Wrong or missing secret token' });
        }

        const parsed = telegramUpdateSchema.safeParse(request.body);
        if (!parsed.success) {
          const body: unknown = request.body;
          request.log.warn(
            {
              channelId,
              body: typeof body === 'string' ? truncateText(body, BODY_EXCERPT_CHARS) : undefined,
            },
            'telegram webhook body is not an update; acknowledged',
          );
          await recordSkippedUpdate(ctx, channelId, {
            reason:
              typeof body === 'string'
                ? 'Telegram sent a body that is not JSON'
                : `Telegram sent something that is not an update (${z.prettifyError(parsed.error)})`,
          });
          return { ok: true as const };
        }
        const update = parsed.data;
        try {
          await pipeline.ingest.accept([
            {
              channelId,
              updateId: update.update_id,
              chatKey: chatKeyOf(update),
              updateType: updateTypeOf(update),
              payload: update,
            },
          ]);
        } catch (error) {
          if (!(error instanceof UnstorableUpdatesError)) throw error;
          await recordSkippedUpdate(ctx, channelId, {
            updateId: update.update_id,
            reason: `the database refused it (${describeCause(error)})`,
          });
        }
        return { ok: true as const };
      },
    );
  });
}

/** The database's own words (the innermost cause): drizzle's message repeats the whole query. */
function describeCause(error: UnstorableUpdatesError): string {
  let current: unknown = error.cause;
  for (let depth = 0; depth < 4 && current instanceof Error && current.cause instanceof Error; depth++) {
    current = current.cause;
  }
  return truncateText(current instanceof Error ? current.message : String(current), 200);
}
