import type { AppContext } from '../../context.ts';
import {
  callTelegram,
  decryptTelegramToken,
  type TelegramResult,
  telegramApiFor,
} from '../../features/channels/telegram-api.ts';

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

/** Files larger than this are refused before download (the Bot API serves up to 20 MB). */
export const MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024;

/**
 * Downloads a file a customer sent: `getFile` for its path, then the file endpoint of the same
 * API root. Throws on a Bot API error or a file over `MAX_DOWNLOAD_BYTES`.
 */
export async function downloadTelegramFile(
  ctx: AppContext,
  channel: { id: string; encryptedToken: string },
  fileId: string,
): Promise<{ data: Buffer; path: string }> {
  const api = telegramApiFor(ctx, channel);
  const file = await api.getFile(fileId);
  if (!file.file_path) throw new Error(`Telegram has no path for file ${fileId}`);
  if (file.file_size !== undefined && file.file_size > MAX_DOWNLOAD_BYTES) {
    throw new Error(`file ${fileId} is ${file.file_size} bytes, over the ${MAX_DOWNLOAD_BYTES} limit`);
  }
  const root = ctx.config.TELEGRAM_API_ROOT.replace(/\/+$/, '');
  const token = decryptTelegramToken(ctx.keys, channel.encryptedToken);
  const response = await fetch(`${root}/file/bot${token}/${file.file_path}`, {
    signal: AbortSignal.timeout(30_000),
  });
  if (!response.ok) throw new Error(`file download answered ${response.status}`);
  const data = Buffer.from(await response.arrayBuffer());
  if (data.length > MAX_DOWNLOAD_BYTES) throw new Error(`file ${fileId} is over the download limit`);
  return { data, path: file.file_path };
}
