/**
 * Parameter parsing for the fake Bot API. Parameters arrive untyped: JSON keeps numbers and
 * objects, while query strings, urlencoded and multipart bodies turn everything into strings and
 * send objects JSON-serialized. Telegram accepts both, so every schema here does too.
 */
import type { InlineKeyboardButton, ResponseParameters } from '@grammyjs/types';
import { z } from 'zod';

/** A Bot API error; the fake answers it as `{ ok: false, error_code, description, parameters? }`. */
export class TelegramError extends Error {
  constructor(
    readonly errorCode: number,
    readonly description: string,
    readonly parameters?: ResponseParameters,
  ) {
    super(description);
  }
}

export function badRequest(reason: string): TelegramError {
  return new TelegramError(400, `Bad Request: ${reason}`);
}

export function forbidden(reason: string): TelegramError {
  return new TelegramError(403, `Forbidden: ${reason}`);
}

export const wireInt = z.preprocess(
  (value) => (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value),
  z.int(),
);

export const wireBool = z.preprocess(
  (value) => (value === 'true' ? true : value === 'false' ? false : value),
  z.boolean(),
);

/** Scalars are accepted where Telegram expects a String, as it stringifies them too. */
export const wireString = z.preprocess(
  (value) => (typeof value === 'number' || typeof value === 'boolean' ? String(value) : value),
  z.string(),
);

/** Objects and arrays may come JSON-serialized (always so in form bodies). */
export function wireJson<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }, schema);
}

/** `chat_id`: an integer id, or `@username` for public groups and channels. */
export const chatIdParam = z.union([wireInt, z.string().regex(/^@[A-Za-z0-9_]{4,}$/)]);

export const parseModeParam = z.enum(['HTML', 'Markdown', 'MarkdownV2']);

const entitiesParam = wireJson(
  z.array(z.looseObject({ type: z.string(), offset: wireInt, length: wireInt })),
);

// Actions an inline button can carry; the Bot API requires exactly one of them per button.
const BUTTON_ACTIONS = [
  'url',
  'callback_data',
  'web_app',
  'login_url',
  'switch_inline_query',
  'switch_inline_query_current_chat',
  'switch_inline_query_chosen_chat',
  'copy_text',
  'callback_game',
  'pay',
  'disabled',
] as const;

const buttonCommon = {
  text: z.string(),
  icon_custom_emoji_id: z.string().optional(),
  style: z.enum(['danger', 'success', 'primary']).optional(),
};

const inlineButtonShape = z.union([
  z.object({ ...buttonCommon, url: z.string() }),
  z.object({ ...buttonCommon, callback_data: z.string() }),
  z.object({ ...buttonCommon, web_app: z.object({ url: z.string() }) }),
  z.object({
    ...buttonCommon,
    login_url: z.object({
      url: z.string(),
      forward_text: z.string().optional(),
      bot_username: z.string().optional(),
      request_write_access: z.boolean().optional(),
    }),
  }),
  z.object({ ...buttonCommon, switch_inline_query: z.string() }),
  z.object({ ...buttonCommon, switch_inline_query_current_chat: z.string() }),
  z.object({
    ...buttonCommon,
    switch_inline_query_chosen_chat: z.object({
      query: z.string().optional(),
      allow_user_chats: z.boolean().optional(),
      allow_bot_chats: z.boolean().optional(),
      allow_group_chats: z.boolean().optional(),
      allow_channel_chats: z.boolean().optional(),
    }),
  }),
  z.object({ ...buttonCommon, copy_text: z.object({ text: z.string() }) }),
  z.object({ ...buttonCommon, callback_game: z.object({}) }),
  z.object({ ...buttonCommon, pay: z.boolean() }),
  z.object({ ...buttonCommon, disabled: z.object({}) }),
]) satisfies z.ZodType<InlineKeyboardButton>;

const inlineButton = z
  .record(z.string(), z.unknown())
  .superRefine((button, ctx) => {
    const fail = (message: string) => ctx.addIssue({ code: 'custom', message });
    if (typeof button.text !== 'string') {
      return fail(`can't parse inline keyboard button: Field "text" must be of type String`);
    }
    const actions = BUTTON_ACTIONS.filter((action) => button[action] !== undefined);
    if (actions.length === 0) {
      return fail("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
    }
    if (actions.length > 1) {
      return fail(`can't parse inline keyboard button: exactly one of ${actions.join(', ')} must be used`);
    }
    // "callback_data: Data to be sent in a callback query to the bot when the button is pressed, 1-64 bytes"
    const data = button.callback_data;
    if (typeof data === 'string' && (data.length === 0 || Buffer.byteLength(data, 'utf8') > 64)) {
      fail('BUTTON_DATA_INVALID');
    }
  })
  .pipe(inlineButtonShape);

export const inlineKeyboardParam = z.object({ inline_keyboard: z.array(z.array(inlineButton)) });

/** Any of the four reply_markup kinds; only inline keyboards are echoed back in the Message. */
export const replyMarkupParam = wireJson(
  z.union([
    inlineKeyboardParam,
    z.looseObject({ keyboard: z.array(z.array(z.unknown())) }),
    z.looseObject({ remove_keyboard: z.literal(true) }),
    z.looseObject({ force_reply: z.literal(true) }),
  ]),
);

export const replyParametersParam = wireJson(
  z.looseObject({
    message_id: wireInt,
    chat_id: chatIdParam.optional(),
    allow_sending_without_reply: wireBool.optional(),
  }),
);

/** Parameters every send* method shares. */
export const sendCommon = {
  chat_id: chatIdParam,
  message_thread_id: wireInt.optional(),
  business_connection_id: z.string().optional(),
  disable_notification: wireBool.optional(),
  protect_content: wireBool.optional(),
  reply_parameters: replyParametersParam.optional(),
  reply_markup: replyMarkupParam.optional(),
};

export const captionCommon = {
  caption: wireString.optional(),
  parse_mode: parseModeParam.optional(),
  caption_entities: entitiesParam.optional(),
};

export const textCommon = {
  text: wireString,
  parse_mode: parseModeParam.optional(),
  entities: entitiesParam.optional(),
};

// Telegram's own wording for missing or unusable parameters, where it has a specific one.
const FIELD_ERRORS: Record<string, { missing: string; invalid?: string }> = {
  chat_id: { missing: 'chat_id is empty', invalid: 'chat not found' },
  text: { missing: 'message text is empty' },
  message_id: { missing: 'message identifier is not specified' },
  photo: { missing: 'there is no photo in the request', invalid: 'wrong file identifier/HTTP URL specified' },
  document: {
    missing: 'there is no document in the request',
    invalid: 'wrong file identifier/HTTP URL specified',
  },
  voice: { missing: 'there is no voice in the request', invalid: 'wrong file identifier/HTTP URL specified' },
  audio: { missing: 'there is no audio in the request', invalid: 'wrong file identifier/HTTP URL specified' },
  video: { missing: 'there is no video in the request', invalid: 'wrong file identifier/HTTP URL specified' },
  file_id: { missing: 'invalid file_id' },
  callback_query_id: { missing: 'query is too old and response timeout expired or query ID is invalid' },
  action: { missing: 'wrong parameter action in request' },
  user_id: { missing: 'user_id is empty', invalid: 'invalid user_id specified' },
  reply_markup: { missing: "can't parse reply keyboard markup JSON object" },
  reply_parameters: { missing: "can't parse reply parameters JSON object" },
  allowed_updates: { missing: "can't parse allowed updates JSON object" },
  commands: { missing: "can't parse commands JSON object" },
};

/** Parses `params` or throws the 400 Telegram would answer. */
export function parseParams<T extends z.ZodType>(schema: T, params: Record<string, unknown>): z.output<T> {
  const result = schema.safeParse(params);
  if (result.success) return result.data;
  throw badRequest(describeIssues(result.error.issues, params));
}

function describeIssues(issues: readonly z.core.$ZodIssue[], params: Record<string, unknown>): string {
  const custom = findCustomIssue(issues);
  if (custom) return custom.message;
  const first = issues[0];
  const field = String(first?.path[0] ?? 'parameters');
  const value = params[field];
  const known = FIELD_ERRORS[field];
  if (value === undefined) return known?.missing ?? `parameter "${field}" is required`;
  if (value === '') return known?.missing ?? `parameter "${field}" is empty`;
  return (
    known?.invalid ?? known?.missing ?? `invalid parameter "${field}": ${first?.message ?? 'wrong value'}`
  );
}

/** Refinements above carry Telegram's exact wording, even when nested inside a union. */
function findCustomIssue(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue | undefined {
  for (const issue of issues) {
    if (issue.code === 'custom') return issue;
    if (issue.code === 'invalid_union') {
      for (const branch of issue.errors) {
        const found = findCustomIssue(branch);
        if (found) return found;
      }
    }
  }
  return undefined;
}
