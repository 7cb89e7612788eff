import type { Update } from '@grammyjs/types';
import { Api, GrammyError, HttpError } from 'grammy';
import type { Config } from '../../config.ts';
import type { AppContext } from '../../context.ts';
import { decryptSecret, type Keys } from '../../platform/crypto.ts';
import type { channels } from './schema.ts';

/**
 * The Telegram Bot API adapter: grammY's `Api` with the base URL from TELEGRAM_API_ROOT (the
 * fake Telegram of the test kit in tests), one client per channel, and Telegram's failures as
 * typed values for callers that decide what to do with them (the sender, the poller).
 */

/**
 * Update types Switchboard asks for. Telegram's default leaves out chat_member and
 * message_reaction, which the inbox needs (members joining groups, reactions as feedback).
 */
export const TELEGRAM_ALLOWED_UPDATES = [
  'message',
  'edited_message',
  'callback_query',
  'my_chat_member',
  'chat_member',
  'message_reaction',
  'channel_post',
  'edited_channel_post',
  'inline_query',
] as const satisfies ReadonlyArray<Exclude<keyof Update, 'update_id'>>;

// A call that hangs longer is treated as failed. It must exceed the getUpdates long-poll
// timeout (25 s), or every idle poll would count as an error.
const CLIENT_TIMEOUT_SECONDS = 60;

/** A client for one bot token. Prefer `telegramApiFor`, which reuses clients per channel. */
export function createTelegramApi(config: Pick<Config, 'TELEGRAM_API_ROOT'>, token: string): Api {
  return new Api(token, {
    // grammY refuses a trailing slash, which `new URL(...).href` style values carry.
    apiRoot: config.TELEGRAM_API_ROOT.replace(/\/+$/, ''),
    timeoutSeconds: CLIENT_TIMEOUT_SECONDS,
  });
}

/**
 * grammY's Node build types abort signals as those of the `abort-controller` polyfill; at run
 * time it only calls addEventListener/removeEventListener and reads `aborted`, which Node's
 * own AbortSignal has. This checks exactly that and hands the signal over with grammY's type.
 */
export type TelegramSignal = NonNullable<Parameters<Api['getMe']>[0]>;

export function telegramSignal(signal: AbortSignal): TelegramSignal {
  if (isTelegramSignal(signal)) return signal;
  throw new TypeError('AbortSignal without addEventListener/removeEventListener');
}

function isTelegramSignal(signal: unknown): signal is TelegramSignal {
  return (
    typeof signal === 'object' &&
    signal !== null &&
    'aborted' in signal &&
    'addEventListener' in signal &&
    typeof signal.addEventListener === 'function' &&
    'removeEventListener' in signal &&
    typeof signal.removeEventListener === 'function'
  );
}

/** A signal that aborts after `ms`, typed for grammY. */
export function telegramTimeout(ms: number): TelegramSignal {
  return telegramSignal(AbortSignal.timeout(ms));
}

type ChannelCredentials = Pick<typeof channels.$inferSelect, 'id' | 'encryptedToken'>;
type ClientContext = Pick<AppContext, 'config' | 'keys'>;

// Request contexts are spreads of one AppContext, so the config object identifies the app:
// one client cache per app, and two apps in one process (tests) never share clients.
const clients = new WeakMap<Config, Map<string, { sealed: string; api: Api }>>();

/**
 * The client of a channel, decrypting its token on first use. A changed token (the channel
 * was re-connected with a new one) is noticed by comparing the sealed value.
 */
export function telegramApiFor(ctx: ClientContext, channel: ChannelCredentials): Api {
  let byChannel = clients.get(ctx.config);
  if (!byChannel) {
    byChannel = new Map();
    clients.set(ctx.config, byChannel);
  }
  const cached = byChannel.get(channel.id);
  if (cached && cached.sealed === channel.encryptedToken) return cached.api;
  const api = createTelegramApi(ctx.config, decryptTelegramToken(ctx.keys, channel.encryptedToken));
  byChannel.set(channel.id, { sealed: channel.encryptedToken, api });
  return api;
}

/** Drops the cached client of a deleted or re-tokened channel. */
export function forgetTelegramApi(ctx: Pick<AppContext, 'config'>, channelId: string): void {
  clients.get(ctx.config)?.delete(channelId);
}

export function decryptTelegramToken(keys: Keys, sealed: string): string {
  return decryptSecret(keys.encryption, sealed);
}

// ─── Failures ────────────────────────────────────────────────────────────────

/**
 * Why a Telegram call failed. `kind: 'api'` — Telegram answered with an error (`status` is its
 * error_code: 400 bad request, 401 revoked token, 403 blocked by the user, 409 conflict, 429
 * flood control with `retryAfter` seconds); `kind: 'network'` — no usable answer (`status` 0).
 */
export interface TelegramFailure {
  ok: false;
  kind: 'api' | 'network';
  status: number;
  description: string;
  /** Seconds Telegram asks to wait (429). */
  retryAfter?: number;
  /** The group became a supergroup with this id (400). */
  migrateToChatId?: number;
  method?: string;
}

export type TelegramResult<T> = { ok: true; result: T } | TelegramFailure;

/** The failure a grammY error stands for; undefined for any other error (a bug, not Telegram). */
export function telegramFailureOf(error: unknown): TelegramFailure | undefined {
  if (error instanceof GrammyError) {
    return {
      ok: false,
      kind: 'api',
      status: error.error_code,
      description: error.description,
      ...(error.parameters.retry_after === undefined ? {} : { retryAfter: error.parameters.retry_after }),
      ...(error.parameters.migrate_to_chat_id === undefined
        ? {}
        : { migrateToChatId: error.parameters.migrate_to_chat_id }),
      method: error.method,
    };
  }
  if (error instanceof HttpError) {
    const cause = error.error instanceof Error ? error.error.message : String(error.error);
    return {
      ok: false,
      kind: 'network',
      status: 0,
      // node-fetch puts the request URL, and with it the bot token, into its messages.
      description: `${error.message} ${cause}`.replace(/bot\d+:[A-Za-z0-9_-]+/g, 'bot<token>'),
    };
  }
  return undefined;
}

/** Runs a Telegram call and returns its failure as a value; rethrows anything that is not Telegram's. */
export async function callTelegram<T>(call: () => Promise<T>): Promise<TelegramResult<T>> {
  try {
    return { ok: true, result: await call() };
  } catch (error) {
    const failure = telegramFailureOf(error);
    if (!failure) throw error;
    return failure;
  }
}

/** Telegram refused the token itself: revoked in @BotFather (401) or never valid (404). */
export function isTokenRejected(failure: TelegramFailure): boolean {
  return failure.kind === 'api' && (failure.status === 401 || failure.status === 404);
}

// ─── Releasing a channel ─────────────────────────────────────────────────────

// Setup calls run while an admin waits for the answer.
export const SETUP_TIMEOUT_MS = 15_000;

/**
 * Tells Telegram to stop delivering to us before a channel goes away (deleteWebhook; queued
 * updates stay at Telegram). Never throws: a channel must be deletable with Telegram down or
 * its token revoked, so a failure is only logged.
 */
export async function releaseTelegramChannel(
  ctx: Pick<AppContext, 'config' | 'keys' | 'logger'>,
  channel: Pick<typeof channels.$inferSelect, 'id' | 'type' | 'encryptedToken'>,
): Promise<void> {
  if (channel.type !== 'telegram') return;
  try {
    const api = telegramApiFor(ctx, channel);
    const outcome = await callTelegram(() =>
      api.deleteWebhook({ drop_pending_updates: false }, telegramTimeout(SETUP_TIMEOUT_MS)),
    );
    if (!outcome.ok) {
      ctx.logger.warn(
        { channelId: channel.id, status: outcome.status, description: outcome.description },
        'deleteWebhook failed; deleting the channel anyway',
      );
    }
  } catch (error) {
    ctx.logger.warn(
      { err: error, channelId: channel.id },
      'releasing the channel failed; deleting it anyway',
    );
  }
}
