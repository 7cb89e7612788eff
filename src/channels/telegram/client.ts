import type { AppContext } from '../../context.ts';
import { callTelegram, type TelegramResult, telegramApiFor } from '../../features/channels/telegram-api.ts';

export type DeliveryResult = TelegramResult<unknown>;

/**
 * Calls a Bot API method by name for the sender: the outbox stores method + params exactly as
 * the Bot API takes them, so the call goes through grammY's untyped `raw` client. The outcome
 * comes back as data, never thrown: the sender decides what a 429, 403 or network error means.
 */
export function deliverTelegram(
  ctx: AppContext,
  channel: { id: string; encryptedToken: string },
  method: string,
  params: Record<string, unknown>,
): Promise<DeliveryResult> {
  const api = telegramApiFor(ctx, channel);
  const raw: Record<string, unknown> = api.raw;
  const call = raw[method];
  if (typeof call !== 'function') {
    return Promise.resolve({
      ok: false,
      kind: 'api',
      status: 400,
      description: `unknown Bot API method ${method}`,
    });
  }
  return callTelegram(async (): Promise<unknown> => call(params));
}
