/**
 * Builders for updates a test pushes as if a user acted: they create the chat on first contact,
 * take the next message id of the chat and store the message, so the bot can reply to it.
 */
import type { Chat, MaybeInaccessibleMessage, Message, Update, User } from '@grammyjs/types';
import { chatMember } from './fake-telegram-methods.ts';
import type { BotMembership, BotState, ChatState, FileStore, StoredFile } from './fake-telegram-state.ts';
import { botCommandEntities } from './fake-telegram-text.ts';

/** The acting user; omitted fields get defaults (in a private chat the user id is the chat id). */
export type FromInput = Partial<User>;

interface ChatInput {
  chatId: number;
  from?: FromInput;
}

export interface TextInput extends ChatInput {
  text: string;
  replyToMessageId?: number;
}

export interface PhotoInput extends ChatInput {
  caption?: string;
  /** Image bytes to register; a few placeholder bytes when neither this nor fileId is given. */
  bytes?: Uint8Array;
  /** A file already registered with addFile. */
  fileId?: string;
  mimeType?: string;
}

export interface VoiceInput extends ChatInput {
  bytes?: Uint8Array;
  fileId?: string;
  /** Seconds; defaults to 1. */
  duration?: number;
  mimeType?: string;
}

export interface CallbackInput extends ChatInput {
  data: string;
  /** The bot message whose button was pressed; defaults to its latest message with a keyboard. */
  messageId?: number;
}

export interface MyChatMemberInput extends ChatInput {
  /** The bot's new status; `kicked` in a private chat means the user blocked the bot. */
  status: BotMembership;
  /** Defaults to the bot's current status in the chat. */
  oldStatus?: BotMembership;
}

export type UpdateInput = Omit<Update, 'update_id'>;

// JPEG start/end-of-image markers: enough for code that sniffs the type, not a decodable image.
const PLACEHOLDER_JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0xff, 0xd9]);
const PLACEHOLDER_OGG = new TextEncoder().encode('OggS');
// Members of groups who are not given explicitly all act as this one user.
const DEFAULT_GROUP_USER_ID = 1_000_001;

const unixNow = () => Math.floor(Date.now() / 1000);

function userFor(chatId: number, from: FromInput | undefined): User {
  const id = from?.id ?? (chatId > 0 ? chatId : DEFAULT_GROUP_USER_ID);
  return { first_name: `User ${id}`, ...from, id, is_bot: false };
}

function contactChat(bot: BotState, input: ChatInput): { chat: ChatState; user: User } {
  const user = userFor(input.chatId, input.from);
  const chat = bot.ensureChat(input.chatId, { user });
  bot.rememberUser(user, chat);
  return { chat, user };
}

function userMessage<C extends object>(bot: BotState, input: ChatInput, content: C) {
  const { chat, user } = contactChat(bot, input);
  const target = chat.chat;
  if (target.type === 'channel') throw new Error('Users do not post in channels; push a channel_post update');
  const message = { message_id: chat.nextMessageId++, date: unixNow(), chat: target, from: user, ...content };
  chat.messages.set(message.message_id, { message, fromBot: false });
  return message;
}

function replyTo(bot: BotState, chatId: number, messageId: number | undefined) {
  if (messageId === undefined) return {};
  const target = bot.chats.get(chatId)?.messages.get(messageId)?.message;
  if (!target) throw new Error(`No message ${messageId} in chat ${chatId} to reply to`);
  return { reply_to_message: { ...target, reply_to_message: undefined } };
}

export function textUpdate(bot: BotState, input: TextInput): UpdateInput {
  const entities = botCommandEntities(input.text);
  const content = {
    text: input.text,
    ...(entities.length > 0 ? { entities } : {}),
    ...replyTo(bot, input.chatId, input.replyToMessageId),
  };
  return { message: userMessage(bot, input, content) };
}

function fileFor(
  files: FileStore,
  input: { fileId?: string; bytes?: Uint8Array; mimeType?: string },
  kind: 'photo' | 'voice',
): StoredFile {
  if (input.fileId !== undefined) {
    const known = files.get(input.fileId);
    if (!known) throw new Error(`Unknown file_id ${input.fileId}; register it with addFile first`);
    return known;
  }
  const bytes = input.bytes ?? (kind === 'photo' ? PLACEHOLDER_JPEG : PLACEHOLDER_OGG);
  return files.add(bytes, {
    kind,
    mimeType: input.mimeType ?? (kind === 'photo' ? 'image/jpeg' : 'audio/ogg'),
  });
}

export function photoUpdate(bot: BotState, files: FileStore, input: PhotoInput): UpdateInput {
  const file = fileFor(files, input, 'photo');
  const photo = [
    {
      file_id: file.fileId,
      file_unique_id: file.fileUniqueId,
      width: 1280,
      height: 960,
      file_size: file.bytes.length,
    },
  ];
  const content = { photo, ...(input.caption !== undefined ? { caption: input.caption } : {}) };
  return { message: userMessage(bot, input, content) };
}

export function voiceUpdate(bot: BotState, files: FileStore, input: VoiceInput): UpdateInput {
  const file = fileFor(files, input, 'voice');
  const voice = {
    file_id: file.fileId,
    file_unique_id: file.fileUniqueId,
    duration: input.duration ?? 1,
    mime_type: file.mimeType,
    file_size: file.bytes.length,
  };
  return { message: userMessage(bot, input, { voice }) };
}

export function callbackUpdate(bot: BotState, input: CallbackInput, queryId: string): UpdateInput {
  const { chat, user } = contactChat(bot, input);
  const pressed =
    input.messageId !== undefined
      ? chat.messages.get(input.messageId)
      : [...chat.messages.values()].reverse().find((stored) => stored.fromBot && stored.message.reply_markup);
  // Telegram sends an InaccessibleMessage (date 0) when the message is gone or too old.
  const message: MaybeInaccessibleMessage = pressed?.message ?? {
    chat: chat.chat,
    message_id: input.messageId ?? 0,
    date: 0,
  };
  bot.callbackQueries.set(queryId, { answered: false });
  return {
    callback_query: {
      id: queryId,
      from: user,
      message,
      chat_instance: `${bot.info.id}${Math.abs(input.chatId)}`,
      data: input.data,
    },
  };
}

export function myChatMemberUpdate(bot: BotState, input: MyChatMemberInput): UpdateInput {
  const { chat, user } = contactChat(bot, input);
  const oldStatus = input.oldStatus ?? chat.botStatus;
  chat.botStatus = input.status;
  return {
    my_chat_member: {
      chat: chat.chat,
      from: user,
      date: unixNow(),
      old_chat_member: chatMember(bot.user, oldStatus),
      new_chat_member: chatMember(bot.user, input.status),
    },
  };
}

/** Chats and messages inside a raw pushed update, so later replies and edits can find them. */
export function observeUpdate(bot: BotState, update: UpdateInput): void {
  const messages: Array<Message | undefined> = [
    update.message,
    update.edited_message,
    update.channel_post,
    update.edited_channel_post,
    update.business_message,
  ];
  const callbackMessage = update.callback_query?.message;
  if (callbackMessage && callbackMessage.date !== 0) messages.push(callbackMessage);
  for (const message of messages) {
    if (!message) continue;
    const chat = observeChat(bot, message.chat, message.from);
    chat.nextMessageId = Math.max(chat.nextMessageId, message.message_id + 1);
    if (!chat.messages.has(message.message_id)) {
      chat.messages.set(message.message_id, { message, fromBot: message.from?.id === bot.info.id });
    }
  }
  const membership = update.my_chat_member ?? update.chat_member;
  if (membership) observeChat(bot, membership.chat, membership.from);
}

function observeChat(bot: BotState, chat: Chat, from: User | undefined): ChatState {
  const state = bot.ensureChat(chat.id, { chat, ...(from ? { user: from } : {}) });
  if (from && from.id !== bot.info.id) bot.rememberUser(from, state);
  return state;
}
