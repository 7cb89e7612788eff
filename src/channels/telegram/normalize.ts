import { z } from 'zod';

/**
 * Telegram updates arrive as untyped JSON; these schemas read only what the pipeline uses and
 * let everything else through untouched (the raw update is stored whole).
 */
const user = z.looseObject({
  id: z.number(),
  is_bot: z.boolean().optional(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  username: z.string().optional(),
  language_code: z.string().optional(),
});
const chat = z.looseObject({ id: z.number(), type: z.string().optional() });
const fileRef = z.looseObject({ file_id: z.string(), file_unique_id: z.string().optional() });
const message = z.looseObject({
  message_id: z.number(),
  date: z.number().optional(),
  chat,
  from: user.optional(),
  text: z.string().optional(),
  caption: z.string().optional(),
  photo: z.array(fileRef).optional(),
  voice: fileRef.optional(),
  audio: fileRef.optional(),
  video: fileRef.optional(),
  document: fileRef.optional(),
  sticker: fileRef.optional(),
  location: z.looseObject({ latitude: z.number(), longitude: z.number() }).optional(),
  contact: z.looseObject({ phone_number: z.string() }).optional(),
  reply_to_message: z.looseObject({ message_id: z.number() }).optional(),
});
const callbackQuery = z.looseObject({
  id: z.string(),
  from: user,
  data: z.string().optional(),
  message: z.looseObject({ message_id: z.number(), chat }).optional(),
});
const chatMemberUpdated = z.looseObject({
  chat,
  from: user,
  date: z.number().optional(),
  new_chat_member: z.looseObject({ status: z.string() }),
});

export const telegramUpdateSchema = z.looseObject({
  update_id: z.number().int().nonnegative(),
});

export type TelegramUser = z.infer<typeof user>;
export type TelegramMessage = z.infer<typeof message>;

const UPDATE_KINDS = [
  'message',
  'edited_message',
  'channel_post',
  'edited_channel_post',
  'business_message',
  'edited_business_message',
  'callback_query',
  'inline_query',
  'chosen_inline_result',
  'shipping_query',
  'pre_checkout_query',
  'poll',
  'poll_answer',
  'my_chat_member',
  'chat_member',
  'chat_join_request',
  'message_reaction',
  'message_reaction_count',
  'chat_boost',
  'removed_chat_boost',
] as const;

/** The update's kind: the one field besides update_id ('unknown' for kinds newer than this list). */
export function updateTypeOf(update: Record<string, unknown>): string {
  return (
    UPDATE_KINDS.find((kind) => kind in update) ??
    Object.keys(update).find((key) => key !== 'update_id') ??
    'unknown'
  );
}

const chatCarrier = z.looseObject({
  chat: z.looseObject({ id: z.number() }).optional(),
  message: z.looseObject({ chat: z.looseObject({ id: z.number() }) }).optional(),
  from: z.looseObject({ id: z.number() }).optional(),
  user: z.looseObject({ id: z.number() }).optional(),
});

/** The chat an update belongs to, as its processing order key ('' when it has none). */
export function chatKeyOf(update: Record<string, unknown>): string {
  for (const value of Object.values(update)) {
    if (typeof value !== 'object' || value === null) continue;
    const nested = chatCarrier.safeParse(value);
    if (!nested.success) continue;
    const id =
      nested.data.chat?.id ?? nested.data.message?.chat.id ?? nested.data.from?.id ?? nested.data.user?.id;
    if (id !== undefined) return String(id);
  }
  return '';
}

export type Inbound =
  | { kind: 'message'; edited: boolean; message: TelegramMessage; from: TelegramUser; chatId: string }
  | { kind: 'callback'; id: string; data: string; from: TelegramUser; chatId: string; messageId?: number }
  | { kind: 'membership'; from: TelegramUser; chatId: string; status: string }
  | { kind: 'other'; type: string };

/** What the processor acts on, read out of a raw update. */
export function readUpdate(update: Record<string, unknown>): Inbound {
  const type = updateTypeOf(update);
  if (type === 'message' || type === 'edited_message') {
    const parsed = message.safeParse(update[type]);
    if (parsed.success && parsed.data.from && parsed.data.chat.type === 'private') {
      return {
        kind: 'message',
        edited: type === 'edited_message',
        message: parsed.data,
        from: parsed.data.from,
        chatId: String(parsed.data.chat.id),
      };
    }
  }
  if (type === 'callback_query') {
    const parsed = callbackQuery.safeParse(update.callback_query);
    if (parsed.success) {
      return {
        kind: 'callback',
        id: parsed.data.id,
        data: parsed.data.data ?? '',
        from: parsed.data.from,
        chatId: String(parsed.data.message?.chat.id ?? parsed.data.from.id),
        ...(parsed.data.message ? { messageId: parsed.data.message.message_id } : {}),
      };
    }
  }
  if (type === 'my_chat_member') {
    const parsed = chatMemberUpdated.safeParse(update.my_chat_member);
    if (parsed.success && parsed.data.chat.type === 'private') {
      return {
        kind: 'membership',
        from: parsed.data.from,
        chatId: String(parsed.data.chat.id),
        status: parsed.data.new_chat_member.status,
      };
    }
  }
  return { kind: 'other', type };
}

/** The stored form of a message: type, text or caption, file ids, reply-to. */
export function describeMessage(msg: TelegramMessage): {
  type: string;
  text: string | null;
  payload: Record<string, unknown>;
} {
  const payload: Record<string, unknown> = {};
  if (msg.reply_to_message) payload.replyTo = msg.reply_to_message.message_id;
  let type = 'text';
  if (msg.photo && msg.photo.length > 0) {
    type = 'photo';
    payload.fileId = msg.photo.at(-1)?.file_id;
  } else if (msg.voice) {
    type = 'voice';
    payload.fileId = msg.voice.file_id;
  } else if (msg.audio) {
    type = 'audio';
    payload.fileId = msg.audio.file_id;
  } else if (msg.video) {
    type = 'video';
    payload.fileId = msg.video.file_id;
  } else if (msg.document) {
    type = 'document';
    payload.fileId = msg.document.file_id;
  } else if (msg.sticker) {
    type = 'sticker';
    payload.fileId = msg.sticker.file_id;
  } else if (msg.location) {
    type = 'location';
    payload.location = msg.location;
  } else if (msg.contact) {
    type = 'contact';
    payload.contact = msg.contact;
  } else if (msg.text === undefined) {
    type = 'other';
  }
  return { type, text: msg.text ?? msg.caption ?? null, payload };
}
