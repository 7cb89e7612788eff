import { Api, GrammyError, HttpError } from 'grammy';
import type { AppContext } from '../../context.ts';
import { decryptSecret } from '../../platform/crypto.ts';

export type DeliveryResult =
  | { ok: true; result: unknown }
  | {
      ok: false;
      /** Telegram's error_code (429, 403, 400…) or 0 for a network failure. */
      status: number;
      description: string;
      /** Seconds to wait, from a 429's parameters.retry_after. */
      retryAfter?: number;
    };

const apis = new Map<string, { sealed: string; api: Api }>();

/** A grammY Api for a channel's bot, cached per channel and pointed at TELEGRAM_API_ROOT. */
export function telegramApi(ctx: AppContext, channel: { id: string; encryptedToken: string }): Api {
  const cached = apis.get(channel.id);
  if (cached && cached.sealed === channel.encryptedToken) return cached.api;
  const token = decryptSecret(ctx.keys.encryption, channel.encryptedToken);
  const api = new Api(token, { apiRoot: ctx.config.TELEGRAM_API_ROOT });
  apis.set(channel.id, { sealed: channel.encryptedToken, api });
  return api;
}

/**
 * Calls a Bot API method and reports the outcome as data, never throwing: the sender decides
 * what a 429, a 403 or a network error means for the message.
 */
export async function callTelegram(
  ctx: AppContext,
  channel: { id: string; encryptedToken: string },
  method: string,
  params: Record<string, unknown>,
): Promise<DeliveryResult> {
  const api = telegramApi(ctx, channel);
  try {
    // Raw call by name: the outbox stores method + params exactly as the Bot API takes them.
    const result: unknown = await api.raw[method as keyof typeof api.raw](params as never);
    return { ok: true, result };
  } catch (error) {
    if (error instanceof GrammyError) {
      return {
        ok: false,
        status: error.error_code,
        description: error.description,
        ...(error.parameters.retry_after === undefined ? {} : { retryAfter: error.parameters.retry_after }),
      };
    }
    if (error instanceof HttpError) return { ok: false, status: 0, description: error.message };
    return { ok: false, status: 0, description: error instanceof Error ? error.message : String(error) };
  }
}
