/**
 * The Bot API methods the fake implements. Each method parses its parameters the way Telegram
 * does, answers with the same result shape (typed against `@grammyjs/types`' ApiMethods) and
 * throws a TelegramError with Telegram's wording when Telegram would refuse the call.
 */
import type {
  AcceptedGiftTypes,
  ApiMethods,
  BotCommand,
  ChatMember,
  InlineKeyboardMarkup,
  Message,
  User,
} from '@grammyjs/types';
import { z } from 'zod';
import type { UploadedPart } from './fake-telegram-body.ts';
import type { FloodControl } from './fake-telegram-limits.ts';
import {
  badRequest,
  captionCommon,
  chatIdParam,
  forbidden,
  inlineKeyboardParam,
  parseParams,
  sendCommon,
  TelegramError,
  textCommon,
  wireBool,
  wireInt,
  wireJson,
  wireString,
} from './fake-telegram-params.ts';
import type {
  BotMembership,
  BotState,
  ChatState,
  FileKind,
  FileStore,
  StoredFile,
} from './fake-telegram-state.ts';
import { visibleText } from './fake-telegram-text.ts';
import type { UpdateType } from './fake-telegram-updates.ts';

type Result<M extends keyof ApiMethods<unknown>> = ReturnType<ApiMethods<unknown>[M]>;

/** One API call as the method implementations see it. */
export interface MethodContext {
  bot: BotState;
  /** Parameters as decoded from the wire (query string merged with the body). */
  params: Record<string, unknown>;
  files: Map<string, UploadedPart>;
  /** Aborted when the client disconnects, e.g. while a getUpdates long poll is open. */
  signal: AbortSignal;
}

export interface MethodDeps {
  files: FileStore;
  flood: FloodControl | undefined;
  /** When false, sending to a chat the fake has not seen fails with "chat not found". */
  autoCreateChats: boolean;
  onSent: (bot: BotState, message: Message) => void;
}

export type MethodHandler = (context: MethodContext) => unknown;

export const METHOD_NAMES = [
  'getMe',
  'getUpdates',
  'setWebhook',
  'deleteWebhook',
  'getWebhookInfo',
  'sendMessage',
  'sendPhoto',
  'sendDocument',
  'sendVoice',
  'sendAudio',
  'sendVideo',
  'sendChatAction',
  'answerCallbackQuery',
  'editMessageText',
  'editMessageReplyMarkup',
  'deleteMessage',
  'getFile',
  'getChat',
  'getChatMember',
  'getChatMemberCount',
  'setMyCommands',
  'getMyCommands',
  'deleteMyCommands',
] as const;

export type MethodName = (typeof METHOD_NAMES)[number];

type Handlers = { [M in MethodName]: (context: MethodContext) => Result<M> | Promise<Result<M>> };

// Every key of Update except update_id; the Record type makes the compiler check the list.
const UPDATE_TYPES: Record<UpdateType, true> = {
  message: true,
  edited_message: true,
  channel_post: true,
  edited_channel_post: true,
  business_connection: true,
  business_message: true,
  edited_business_message: true,
  deleted_business_messages: true,
  guest_message: true,
  stopped_message_generation: true,
  message_reaction: true,
  message_reaction_count: true,
  inline_query: true,
  chosen_inline_result: true,
  callback_query: true,
  shipping_query: true,
  pre_checkout_query: true,
  purchased_paid_media: true,
  poll: true,
  poll_answer: true,
  my_chat_member: true,
  chat_member: true,
  chat_join_request: true,
  chat_boost: true,
  removed_chat_boost: true,
  managed_bot: true,
  subscription: true,
};

function isUpdateType(name: string): name is UpdateType {
  return Object.hasOwn(UPDATE_TYPES, name);
}

// Unknown names in allowed_updates are ignored rather than rejected, as Telegram does.
const allowedUpdatesParam = wireJson(z.array(z.string())).transform((names) => names.filter(isUpdateType));

const CHAT_ACTIONS = [
  'typing',
  'upload_photo',
  'record_video',
  'upload_video',
  'record_voice',
  'upload_voice',
  'upload_document',
  'choose_sticker',
  'find_location',
  'record_video_note',
  'upload_video_note',
] as const;

const commandScopeParam = wireJson(
  z.object({
    type: z.enum([
      'default',
      'all_private_chats',
      'all_group_chats',
      'all_chat_administrators',
      'chat',
      'chat_administrators',
      'chat_member',
    ]),
    chat_id: chatIdParam.optional(),
    user_id: wireInt.optional(),
  }),
);

const commandsScopeParams = z.object({
  scope: commandScopeParam.optional(),
  language_code: z.string().optional(),
});

const editTarget = {
  chat_id: chatIdParam.optional(),
  message_id: wireInt.optional(),
  inline_message_id: z.string().optional(),
};

const DEFAULT_MIME: Record<FileKind, string> = {
  photo: 'image/jpeg',
  document: 'application/octet-stream',
  voice: 'audio/ogg',
  audio: 'audio/mpeg',
  video: 'video/mp4',
};

// Bot API limits: message text 1-4096 characters, media captions 0-1024 characters (both after
// entities parsing); getFile serves files up to 20 MB; up to 100 commands per scope and language.
const MAX_TEXT = 4096;
const MAX_CAPTION = 1024;
const MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024;
const MAX_COMMANDS = 100;

const NO_GIFTS: AcceptedGiftTypes = {
  unlimited_gifts: false,
  limited_gifts: false,
  unique_gifts: false,
  premium_subscription: false,
  gifts_from_channels: false,
};

const NOT_MODIFIED =
  'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message';

const unixNow = () => Math.floor(Date.now() / 1000);

/** Builds a ChatMember of the given status, with full rights for administrators. */
export function chatMember(user: User, status: BotMembership): ChatMember {
  switch (status) {
    case 'member':
      return { status: 'member', user };
    case 'left':
      return { status: 'left', user };
    case 'kicked':
      return { status: 'kicked', user, until_date: 0 };
    case 'administrator':
      return {
        status: 'administrator',
        user,
        can_be_edited: false,
        is_anonymous: false,
        can_manage_chat: true,
        can_delete_messages: true,
        can_manage_video_chats: true,
        can_restrict_members: true,
        can_promote_members: false,
        can_change_info: true,
        can_invite_users: true,
        can_post_stories: false,
        can_edit_stories: false,
        can_delete_stories: false,
        can_send_welcome_messages: false,
      };
  }
}

/** Returns the method table keyed by lower-cased name: "All methods in the Bot API are case-insensitive." */
export function createMethods(deps: MethodDeps): Map<string, { name: MethodName; handler: MethodHandler }> {
  const methods = new BotApiMethods(deps);
  const handlers: Handlers = methods;
  return new Map(
    METHOD_NAMES.map((name) => {
      const handler: MethodHandler = (context) => handlers[name](context);
      return [name.toLowerCase(), { name, handler }];
    }),
  );
}

class BotApiMethods implements Handlers {
  constructor(private readonly deps: MethodDeps) {}

  getMe({ bot }: MethodContext): Result<'getMe'> {
    return {
      ...bot.user,
      is_bot: true,
      username: bot.info.username,
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
      has_topics_enabled: false,
      allows_users_to_create_topics: false,
      can_manage_bots: false,
      supports_join_request_queries: false,
    };
  }

  async getUpdates({ bot, params, signal }: MethodContext): Promise<Result<'getUpdates'>> {
    const args = parseParams(
      z.object({
        offset: wireInt.optional(),
        limit: wireInt.optional(),
        timeout: wireInt.optional(),
        allowed_updates: allowedUpdatesParam.optional(),
      }),
      params,
    );
    // "Values between 1-100 are accepted. Defaults to 100." Out-of-range values are clamped.
    const limit = Math.min(100, Math.max(1, args.limit ?? 100));
    return bot.updates.getUpdates({
      ...(args.offset !== undefined ? { offset: args.offset } : {}),
      limit,
      timeoutSeconds: Math.max(0, args.timeout ?? 0),
      ...(args.allowed_updates ? { allowedUpdates: args.allowed_updates } : {}),
      signal,
    });
  }

  setWebhook({ bot, params }: MethodContext): Result<'setWebhook'> {
    const args = parseParams(
      z.object({
        url: wireString,
        max_connections: wireInt.optional(),
        allowed_updates: allowedUpdatesParam.optional(),
        drop_pending_updates: wireBool.optional(),
        secret_token: z.string().optional(),
      }),
      params,
    );
    const dropPending = args.drop_pending_updates ?? false;
    // "Pass an empty string to remove webhook integration"
    if (args.url === '') {
      bot.updates.deleteWebhook(dropPending);
      return true;
    }
    let url: URL;
    try {
      url = new URL(args.url);
    } catch {
      throw badRequest('bad webhook: invalid webhook URL specified');
    }
    // Telegram insists on HTTPS; the fake also takes http so tests can use a loopback receiver.
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw badRequest('bad webhook: An HTTPS URL must be provided for webhook');
    }
    // secret_token: "1-256 characters. Only characters A-Z, a-z, 0-9, _ and - are allowed."
    if (args.secret_token !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(args.secret_token)) {
      throw badRequest('secret token contains unallowed characters');
    }
    // max_connections: "1-100. Defaults to 40."
    const maxConnections = args.max_connections ?? 40;
    if (maxConnections < 1 || maxConnections > 100)
      throw badRequest('bad webhook: max_connections must be 1-100');
    bot.updates.setWebhook(
      {
        url: args.url,
        maxConnections,
        ...(args.secret_token !== undefined ? { secretToken: args.secret_token } : {}),
        ...(args.allowed_updates ? { allowedUpdates: args.allowed_updates } : {}),
      },
      dropPending,
    );
    return true;
  }

  deleteWebhook({ bot, params }: MethodContext): Result<'deleteWebhook'> {
    const args = parseParams(z.object({ drop_pending_updates: wireBool.optional() }), params);
    bot.updates.deleteWebhook(args.drop_pending_updates ?? false);
    return true;
  }

  getWebhookInfo({ bot }: MethodContext): Result<'getWebhookInfo'> {
    return bot.updates.info();
  }

  sendMessage({ bot, params }: MethodContext): Result<'sendMessage'> {
    const args = parseParams(z.object({ ...sendCommon, ...textCommon }), params);
    const chat = this.chatForSending(bot, args.chat_id);
    const text = args.entities ? args.text : visibleText(args.text, args.parse_mode);
    if (text.trim().length === 0) throw badRequest('message text is empty');
    if (text.length > MAX_TEXT) throw badRequest('message is too long');
    const base = this.prepareMessage(bot, chat, args);
    return this.store(bot, chat, { ...base, text });
  }

  sendPhoto(context: MethodContext): Result<'sendPhoto'> {
    const { bot, chat, base, caption, file } = this.prepareMedia(context, 'photo');
    // Image dimensions are not decoded; one size stands for the "available sizes of the photo".
    const photo = [
      {
        file_id: file.fileId,
        file_unique_id: file.fileUniqueId,
        width: 1280,
        height: 960,
        file_size: file.bytes.length,
      },
    ];
    return this.store(bot, chat, { ...base, ...caption, photo });
  }

  sendDocument(context: MethodContext): Result<'sendDocument'> {
    const { bot, chat, base, caption, file } = this.prepareMedia(context, 'document');
    return this.store(bot, chat, { ...base, ...caption, document: this.describeFile(file) });
  }

  sendVoice(context: MethodContext): Result<'sendVoice'> {
    const { bot, chat, base, caption, file, duration } = this.prepareMedia(context, 'voice');
    return this.store(bot, chat, { ...base, ...caption, voice: { ...fileFields(file), duration } });
  }

  sendAudio(context: MethodContext): Result<'sendAudio'> {
    const { bot, chat, base, caption, file, duration } = this.prepareMedia(context, 'audio');
    return this.store(bot, chat, { ...base, ...caption, audio: { ...this.describeFile(file), duration } });
  }

  sendVideo(context: MethodContext): Result<'sendVideo'> {
    const { bot, chat, base, caption, file, duration } = this.prepareMedia(context, 'video');
    const video = { ...this.describeFile(file), duration, width: 1280, height: 720 };
    return this.store(bot, chat, { ...base, ...caption, video });
  }

  sendChatAction({ bot, params }: MethodContext): Result<'sendChatAction'> {
    const args = parseParams(
      z.object({ chat_id: chatIdParam, action: z.enum(CHAT_ACTIONS), message_thread_id: wireInt.optional() }),
      params,
    );
    // Not throttled: the FAQ's flood limits are about messages, and a chat action creates none.
    this.chatForSending(bot, args.chat_id);
    return true;
  }

  answerCallbackQuery({ bot, params }: MethodContext): Result<'answerCallbackQuery'> {
    const args = parseParams(
      z.object({
        callback_query_id: wireString,
        text: wireString.optional(),
        show_alert: wireBool.optional(),
        url: z.string().optional(),
        cache_time: wireInt.optional(),
      }),
      params,
    );
    // A query can be answered once; Telegram rejects unknown and already answered ids alike.
    const query = bot.callbackQueries.get(args.callback_query_id);
    if (!query || query.answered) {
      throw badRequest('query is too old and response timeout expired or query ID is invalid');
    }
    // "Text of the notification. If not specified, nothing will be shown to the user, 0-200 characters"
    if ((args.text ?? '').length > 200) throw badRequest('MESSAGE_TOO_LONG');
    query.answered = true;
    return true;
  }

  editMessageText({ bot, params }: MethodContext): Result<'editMessageText'> {
    const args = parseParams(
      z.object({ ...editTarget, ...textCommon, reply_markup: wireJson(inlineKeyboardParam).optional() }),
      params,
    );
    const text = args.entities ? args.text : visibleText(args.text, args.parse_mode);
    if (text.trim().length === 0) throw badRequest('message text is empty');
    if (text.length > MAX_TEXT) throw badRequest('message is too long');
    if (args.inline_message_id !== undefined) return true;
    const { chat, stored } = this.editableMessage(bot, args.chat_id, args.message_id);
    if (stored.message.text === undefined) throw badRequest('there is no text in the message to edit');
    if (stored.message.text === text && sameMarkup(stored.message.reply_markup, args.reply_markup)) {
      throw badRequest(NOT_MODIFIED);
    }
    this.throttle(bot, chat.chat.id);
    // Omitting reply_markup in an edit removes the message's inline keyboard.
    const edited = {
      ...stored.message,
      text,
      entities: undefined,
      edit_date: unixNow(),
      reply_markup: args.reply_markup,
    };
    stored.message = edited;
    return edited;
  }

  editMessageReplyMarkup({ bot, params }: MethodContext): Result<'editMessageReplyMarkup'> {
    const args = parseParams(
      z.object({ ...editTarget, reply_markup: wireJson(inlineKeyboardParam).optional() }),
      params,
    );
    if (args.inline_message_id !== undefined) return true;
    const { chat, stored } = this.editableMessage(bot, args.chat_id, args.message_id);
    if (sameMarkup(stored.message.reply_markup, args.reply_markup)) throw badRequest(NOT_MODIFIED);
    this.throttle(bot, chat.chat.id);
    const edited = { ...stored.message, edit_date: unixNow(), reply_markup: args.reply_markup };
    stored.message = edited;
    return edited;
  }

  deleteMessage({ bot, params }: MethodContext): Result<'deleteMessage'> {
    const args = parseParams(z.object({ chat_id: chatIdParam, message_id: wireInt }), params);
    const chat = this.knownChat(bot, args.chat_id);
    if (!chat.messages.delete(args.message_id)) throw badRequest('message to delete not found');
    return true;
  }

  getFile({ params }: MethodContext): Result<'getFile'> {
    const args = parseParams(z.object({ file_id: wireString }), params);
    const file = this.deps.files.get(args.file_id);
    if (!file) throw badRequest('invalid file_id');
    // "bots can download files of up to 20MB in size"
    if (file.bytes.length > MAX_DOWNLOAD_BYTES) throw badRequest('file is too big');
    return {
      file_id: file.fileId,
      file_unique_id: file.fileUniqueId,
      file_size: file.bytes.length,
      file_path: file.filePath,
    };
  }

  getChat({ bot, params }: MethodContext): Result<'getChat'> {
    const args = parseParams(z.object({ chat_id: chatIdParam }), params);
    const { chat } = this.knownChat(bot, args.chat_id);
    const details = { accent_color_id: 0, max_reaction_count: 11, accepted_gift_types: NO_GIFTS };
    return { ...chat, ...details };
  }

  getChatMember({ bot, params }: MethodContext): Result<'getChatMember'> {
    const args = parseParams(z.object({ chat_id: chatIdParam, user_id: wireInt }), params);
    const chat = this.knownChat(bot, args.chat_id);
    if (args.user_id === bot.info.id) return chatMember(bot.user, chat.botStatus);
    if (chat.chat.type === 'private') {
      if (args.user_id !== chat.chat.id) throw badRequest('user not found');
      const user = bot.users.get(args.user_id) ?? {
        id: chat.chat.id,
        is_bot: false,
        first_name: chat.chat.first_name,
      };
      return chatMember(user, 'member');
    }
    const user = bot.users.get(args.user_id);
    if (!user) throw badRequest('user not found');
    return chatMember(user, chat.members.has(user.id) ? 'member' : 'left');
  }

  getChatMemberCount({ bot, params }: MethodContext): Result<'getChatMemberCount'> {
    const args = parseParams(z.object({ chat_id: chatIdParam }), params);
    const chat = this.knownChat(bot, args.chat_id);
    if (chat.chat.type === 'private') return 2;
    return chat.members.size + (chat.botStatus === 'member' || chat.botStatus === 'administrator' ? 1 : 0);
  }

  setMyCommands({ bot, params }: MethodContext): Result<'setMyCommands'> {
    const args = parseParams(
      commandsScopeParams.extend({
        commands: wireJson(z.array(z.object({ command: z.string(), description: z.string() }))),
      }),
      params,
    );
    if (args.commands.length > MAX_COMMANDS) throw badRequest('too many commands specified');
    const commands: BotCommand[] = [];
    for (const { command, description } of args.commands) {
      // "Text of the command; 1-32 characters. Can contain only lowercase English letters, digits and underscores."
      if (!/^[a-z0-9_]{1,32}$/.test(command)) throw badRequest('BOT_COMMAND_INVALID');
      // "Description of the command; 1-256 characters."
      if (description.length < 1 || description.length > 256)
        throw badRequest('command description is invalid');
      commands.push({ command, description });
    }
    bot.commands.set(commandsKey(args), commands);
    return true;
  }

  getMyCommands({ bot, params }: MethodContext): Result<'getMyCommands'> {
    const args = parseParams(commandsScopeParams, params);
    return [...(bot.commands.get(commandsKey(args)) ?? [])];
  }

  deleteMyCommands({ bot, params }: MethodContext): Result<'deleteMyCommands'> {
    const args = parseParams(commandsScopeParams, params);
    bot.commands.delete(commandsKey(args));
    return true;
  }

  /** The chat a send* call targets, after the membership checks Telegram makes. */
  private chatForSending(bot: BotState, chatId: number | string): ChatState {
    const chat = this.resolveChat(bot, chatId) ?? this.implicitChat(bot, chatId);
    if (chat.chat.type === 'private' && chat.botStatus === 'kicked')
      throw forbidden('bot was blocked by the user');
    if (chat.chat.type !== 'private' && chat.botStatus === 'kicked') {
      throw forbidden(`bot was kicked from the ${chat.chat.type} chat`);
    }
    if (chat.chat.type !== 'private' && chat.botStatus === 'left') {
      throw forbidden(`bot is not a member of the ${chat.chat.type} chat`);
    }
    return chat;
  }

  private implicitChat(bot: BotState, chatId: number | string): ChatState {
    if (typeof chatId === 'string' || chatId === 0 || !this.deps.autoCreateChats)
      throw badRequest('chat not found');
    return bot.ensureChat(chatId);
  }

  private knownChat(bot: BotState, chatId: number | string): ChatState {
    const chat = this.resolveChat(bot, chatId);
    if (!chat) throw badRequest('chat not found');
    return chat;
  }

  private resolveChat(bot: BotState, chatId: number | string): ChatState | undefined {
    if (typeof chatId === 'number') return bot.chats.get(chatId);
    const username = chatId.slice(1).toLowerCase();
    return [...bot.chats.values()].find((chat) => chat.chat.username?.toLowerCase() === username);
  }

  /** Rejects the call with 429 when flood control says so. */
  private throttle(bot: BotState, chatId: number): void {
    const retryAfter = this.deps.flood?.acquire(bot.info.token, chatId);
    if (retryAfter !== undefined) {
      throw new TelegramError(429, `Too Many Requests: retry after ${retryAfter}`, {
        retry_after: retryAfter,
      });
    }
  }

  /** Fields every sent message has; allocates the message id, so call it once checks have passed. */
  private prepareMessage(
    bot: BotState,
    chat: ChatState,
    args: z.output<z.ZodObject<typeof sendCommon>>,
  ): Message.CommonMessage {
    let replyTo: Message | undefined;
    if (args.reply_parameters) {
      const { message_id, chat_id, allow_sending_without_reply } = args.reply_parameters;
      const replyChat = chat_id === undefined ? chat : this.resolveChat(bot, chat_id);
      replyTo = replyChat?.messages.get(message_id)?.message;
      if (!replyTo && !allow_sending_without_reply) throw badRequest('message to be replied not found');
    }
    const inline = args.reply_markup ? inlineKeyboardParam.safeParse(args.reply_markup) : undefined;
    this.throttle(bot, chat.chat.id);
    return {
      message_id: chat.nextMessageId++,
      date: unixNow(),
      chat: chat.chat,
      from: bot.user,
      ...(args.message_thread_id !== undefined ? { message_thread_id: args.message_thread_id } : {}),
      ...(args.protect_content ? { has_protected_content: true } : {}),
      ...(replyTo ? { reply_to_message: { ...replyTo, reply_to_message: undefined } } : {}),
      ...(inline?.success ? { reply_markup: inline.data } : {}),
    };
  }

  private prepareMedia(context: MethodContext, kind: FileKind) {
    const { bot, params } = context;
    const args = parseParams(
      z.object({ ...sendCommon, ...captionCommon, duration: wireInt.optional() }),
      params,
    );
    const chat = this.chatForSending(bot, args.chat_id);
    const caption = args.caption === undefined ? undefined : visibleText(args.caption, args.parse_mode);
    if (caption !== undefined && caption.length > MAX_CAPTION)
      throw badRequest('message caption is too long');
    const file = this.inputFile(context, kind);
    const base = this.prepareMessage(bot, chat, args);
    return { bot, chat, base, file, caption: caption ? { caption } : {}, duration: args.duration ?? 1 };
  }

  /**
   * A file given as a known file_id, an HTTP URL (not fetched), an `attach://<name>` reference to
   * a multipart part, or a multipart part named after the parameter itself.
   */
  private inputFile({ params, files }: MethodContext, kind: FileKind): StoredFile {
    const value = params[kind];
    let upload = files.get(kind);
    if (!upload) {
      if (value === undefined || value === '') throw badRequest(`there is no ${kind} in the request`);
      if (typeof value !== 'string') throw badRequest('wrong file identifier/HTTP URL specified');
      if (value.startsWith('attach://')) {
        upload = files.get(value.slice('attach://'.length));
        if (!upload) throw badRequest('wrong file identifier/HTTP URL specified');
      } else if (/^https?:\/\//i.test(value)) {
        const fileName = new URL(value).pathname.split('/').pop() || undefined;
        return this.deps.files.add(new Uint8Array(), {
          kind,
          mimeType: DEFAULT_MIME[kind],
          ...(fileName ? { fileName } : {}),
        });
      } else {
        const known = this.deps.files.get(value);
        if (!known) throw badRequest('wrong file identifier/HTTP URL specified');
        return known;
      }
    }
    if (upload.bytes.length === 0) throw badRequest('file must be non-empty');
    const mimeType =
      upload.contentType === 'application/octet-stream' ? DEFAULT_MIME[kind] : upload.contentType;
    return this.deps.files.add(upload.bytes, { kind, mimeType, fileName: upload.filename });
  }

  private describeFile(file: StoredFile) {
    return { ...fileFields(file), ...(file.fileName ? { file_name: file.fileName } : {}) };
  }

  private store<M extends Message>(bot: BotState, chat: ChatState, message: M): M {
    chat.messages.set(message.message_id, { message, fromBot: true });
    this.deps.onSent(bot, message);
    return message;
  }

  private editableMessage(bot: BotState, chatId: number | string | undefined, messageId: number | undefined) {
    if (chatId === undefined) throw badRequest('chat_id is empty');
    if (messageId === undefined) throw badRequest('message identifier is not specified');
    const chat = this.knownChat(bot, chatId);
    const stored = chat.messages.get(messageId);
    if (!stored) throw badRequest('message to edit not found');
    if (!stored.fromBot) throw badRequest("message can't be edited");
    return { chat, stored };
  }
}

/** The fields every Bot API file object (Voice, Audio, Document, ...) has. */
function fileFields(file: StoredFile) {
  return {
    file_id: file.fileId,
    file_unique_id: file.fileUniqueId,
    mime_type: file.mimeType,
    file_size: file.bytes.length,
  };
}

function sameMarkup(
  current: InlineKeyboardMarkup | undefined,
  next: InlineKeyboardMarkup | undefined,
): boolean {
  return JSON.stringify(current ?? null) === JSON.stringify(next ?? null);
}

function commandsKey(args: {
  scope?: { type: string; chat_id?: number | string; user_id?: number };
  language_code?: string;
}) {
  const scope = args.scope ?? { type: 'default' };
  return [scope.type, scope.chat_id ?? '', scope.user_id ?? '', args.language_code ?? ''].join('|');
}
