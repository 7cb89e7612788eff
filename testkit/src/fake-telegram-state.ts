/**
 * What the fake Telegram remembers: bots, their chats and messages, and uploaded files.
 */
import { randomBytes } from 'node:crypto';
import type { BotCommand, Chat, Message, User } from '@grammyjs/types';
import type { UpdateChannel } from './fake-telegram-updates.ts';

/** A bot registered with `FakeTelegram#addBot`. */
export interface FakeBotInfo {
  id: number;
  token: string;
  username: string;
  firstName: string;
}

/** The bot's own membership in a chat; `kicked` in a private chat means the user blocked it. */
export type BotMembership = 'member' | 'administrator' | 'left' | 'kicked';

export interface StoredMessage {
  message: Message;
  fromBot: boolean;
}

export interface ChatState {
  chat: Chat;
  /** Message ids are sequential per chat, shared by both sides of the conversation. */
  nextMessageId: number;
  messages: Map<number, StoredMessage>;
  /** Users seen in this chat; getChatMember answers `member` for them. */
  members: Set<number>;
  botStatus: BotMembership;
}

export class BotState {
  readonly chats = new Map<number, ChatState>();
  readonly users = new Map<number, User>();
  /** setMyCommands lists, keyed by scope and language. */
  readonly commands = new Map<string, BotCommand[]>();
  /** Callback queries pushed to the bot; each may be answered once. */
  readonly callbackQueries = new Map<string, { answered: boolean }>();

  constructor(
    readonly info: FakeBotInfo,
    readonly updates: UpdateChannel,
  ) {}

  get user(): User {
    return { id: this.info.id, is_bot: true, first_name: this.info.firstName, username: this.info.username };
  }

  /** Creates the chat on first contact, inferring its type from the id like Telegram's id ranges. */
  ensureChat(chatId: number, seed?: { user?: User; chat?: Chat }): ChatState {
    const existing = this.chats.get(chatId);
    if (existing) return existing;
    const state: ChatState = {
      chat: seed?.chat ?? implicitChat(chatId, seed?.user),
      nextMessageId: 1,
      messages: new Map(),
      members: new Set(),
      botStatus: 'member',
    };
    this.chats.set(chatId, state);
    return state;
  }

  rememberUser(user: User, chat?: ChatState): void {
    this.users.set(user.id, user);
    chat?.members.add(user.id);
  }

  isBlocked(chatId: number): boolean {
    const chat = this.chats.get(chatId);
    return chat?.chat.type === 'private' && chat.botStatus === 'kicked';
  }
}

/** Supergroup and channel ids start with -100, basic groups are other negative ids. */
function implicitChat(chatId: number, user: User | undefined): Chat {
  if (chatId > 0) {
    return {
      id: chatId,
      type: 'private',
      first_name: user?.first_name ?? `User ${chatId}`,
      ...(user?.last_name ? { last_name: user.last_name } : {}),
      ...(user?.username ? { username: user.username } : {}),
    };
  }
  if (String(chatId).startsWith('-100'))
    return { id: chatId, type: 'supergroup', title: `Supergroup ${chatId}` };
  return { id: chatId, type: 'group', title: `Group ${chatId}` };
}

/** A file the fake can serve through getFile and `/file/bot<token>/<file_path>`. */
export interface StoredFile {
  fileId: string;
  fileUniqueId: string;
  filePath: string;
  bytes: Uint8Array;
  mimeType: string;
  fileName?: string;
}

export type FileKind = 'photo' | 'document' | 'voice' | 'audio' | 'video';

const KIND_FOLDERS: Record<FileKind, { folder: string; extension: string }> = {
  photo: { folder: 'photos', extension: 'jpg' },
  document: { folder: 'documents', extension: 'dat' },
  voice: { folder: 'voice', extension: 'oga' },
  audio: { folder: 'music', extension: 'mp3' },
  video: { folder: 'videos', extension: 'mp4' },
};

export class FileStore {
  private readonly byId = new Map<string, StoredFile>();
  private readonly byPath = new Map<string, StoredFile>();
  private counter = 0;

  add(
    bytes: Uint8Array,
    options: { fileId?: string; mimeType?: string; fileName?: string; kind?: FileKind } = {},
  ): StoredFile {
    const { folder, extension } = KIND_FOLDERS[options.kind ?? 'document'];
    const suffix = options.fileName?.match(/\.([A-Za-z0-9]{1,8})$/)?.[1] ?? extension;
    const file: StoredFile = {
      // Real file ids are opaque base64url strings; tests should not depend on their shape.
      fileId: options.fileId ?? `AgAC${randomBytes(30).toString('base64url')}`,
      fileUniqueId: `AQAD${randomBytes(9).toString('base64url')}`,
      filePath: `${folder}/file_${this.counter++}.${suffix}`,
      bytes,
      mimeType: options.mimeType ?? 'application/octet-stream',
      ...(options.fileName ? { fileName: options.fileName } : {}),
    };
    this.byId.set(file.fileId, file);
    this.byPath.set(file.filePath, file);
    return file;
  }

  get(fileId: string): StoredFile | undefined {
    return this.byId.get(fileId);
  }

  atPath(filePath: string): StoredFile | undefined {
    return this.byPath.get(filePath);
  }
}

/** Tokens look like real ones: `<bot id>:<35 characters of [A-Za-z0-9_-]>`. */
export function makeToken(botId: number): string {
  return `${botId}:${randomBytes(27).toString('base64url').slice(0, 35)}`;
}

/** Custom tokens need the numeric bot id before the colon; getMe reports it as the bot's id. */
export const TOKEN_PATTERN = /^(\d+):[A-Za-z0-9_-]+$/;
