import { z } from 'zod';

/**
 * The responder port and the config-driven responder that ships with the pipeline: commands,
 * escalation keywords and a fallback. The assistant (LLM with tools, offline search) plugs in
 * behind the same port.
 */

export type Button = { text: string; callbackData: string };

/** Where an escalation came from (issue: escalations and live handoff). */
export type EscalationSource = 'command' | 'keyword' | 'llm' | 'repeated_unknown' | 'button' | 'operator';

export type ResponderAction =
  | { type: 'reply'; text: string; buttons?: Button[][] }
  /** A photo (URL or Telegram file id) with an optional caption: product cards. */
  | { type: 'reply_photo'; photo: string; caption?: string; buttons?: Button[][] }
  | { type: 'escalate'; reason: string; source: EscalationSource; productId?: string }
  | { type: 'set_language'; language: string }
  | { type: 'set_referrer'; code: string }
  | { type: 'answer_callback'; text?: string }
  /** Stores what was read from the inbound message (a voice transcript, the text OCR found). */
  | { type: 'annotate_inbound'; kind: 'transcript' | 'ocr' | 'vision'; text: string };

export type ResponderInbound =
  | { kind: 'text'; text: string }
  | { kind: 'media'; type: string; caption: string | null; fileId?: string }
  | { kind: 'callback'; data: string };

/** Who and where: the ids a responder needs to search a workspace's data or record usage. */
export interface ResponderScope {
  workspaceId: string;
  botId: string;
  channelId: string;
  contactId: string;
  conversationId: string;
}

export interface ResponderInput {
  scope: ResponderScope;
  config: ResponderConfig;
  /** The bot's published config as stored (the assistant reads its own fields from it). */
  rawConfig: unknown;
  /** Downloads a file the customer sent (Telegram getFile), size-limited. */
  downloadFile: (fileId: string) => Promise<{ data: Buffer; path: string }>;
  language: string;
  inbound: ResponderInbound;
  isFirstContact: boolean;
  hasReferrer: boolean;
  /** Last messages of the conversation, oldest first (the memory window); read on demand. */
  loadMemory: () => Promise<Array<{ direction: 'in' | 'out'; text: string | null }>>;
}

export type Responder = (input: ResponderInput) => Promise<ResponderAction[]>;

// ─── Reading the bot config ──────────────────────────────────────────────────

const localized = z.record(z.string(), z.string());

/**
 * The fields of a published bot config the pipeline reads. Tolerant on purpose: a field the
 * config lacks falls back to a built-in text instead of failing the customer's message.
 */
const responderConfigSchema = z.object({
  language: z.string().catch('en'),
  languages: z.array(z.string()).catch(['en', 'ru']),
  greeting: localized.catch({}),
  helpText: localized.catch({}),
  managerContact: z.string().catch(''),
  escalationAction: z.enum(['notify', 'transfer', 'log_only']).catch('transfer'),
  escalationKeywords: z.array(z.string()).catch([]),
  memoryWindow: z.number().int().min(0).max(100).catch(10),
  throttle: z
    .object({ perSecond: z.number().positive(), burst: z.number().int().positive() })
    .catch({ perSecond: 1, burst: 5 }),
  messages: z.record(z.string(), localized).catch({}),
});

export type ResponderConfig = z.infer<typeof responderConfigSchema>;

/** Parsed configs by the stored config object: a published config is read once, not per update. */
const parsedConfigs = new WeakMap<object, ResponderConfig>();

/** The responder's view of a stored bot config (treat it as read-only: it is shared). */
export function readResponderConfig(config: unknown): ResponderConfig {
  if (typeof config !== 'object' || config === null) return responderConfigSchema.parse({});
  let parsed = parsedConfigs.get(config);
  if (!parsed) {
    parsed = responderConfigSchema.parse(config);
    parsedConfigs.set(config, parsed);
  }
  return parsed;
}

const BUILT_IN: Record<string, Record<string, string>> = {
  greeting: { en: 'Hello! How can I help you?', ru: 'Здравствуйте! Чем могу помочь?' },
  helpText: {
    en: 'Ask me anything. Commands: /help, /contact, /language, /escalate (talk to a person).',
    ru: 'Спросите меня о чём угодно. Команды: /help, /contact, /language, /escalate (связаться с человеком).',
  },
  contact: { en: 'You can reach a manager here.', ru: 'Связаться с менеджером можно здесь.' },
  escalated: {
    en: 'I have asked a person to take over. Please wait, they will answer here.',
    ru: 'Я передал разговор сотруднику. Пожалуйста, подождите — вам ответят здесь.',
  },
  operatorJoined: {
    en: 'A manager has joined the conversation and will answer you here.',
    ru: 'К разговору подключился менеджер — он ответит вам здесь.',
  },
  backToBot: {
    en: 'The manager has left the conversation. I am here if you need anything else.',
    ru: 'Менеджер вышел из разговора. Если понадобится что-то ещё — я здесь.',
  },
  resolved: {
    en: 'Your request has been resolved. Thank you! I am here if you need anything else.',
    ru: 'Ваш вопрос решён. Спасибо! Если понадобится что-то ещё — я здесь.',
  },
  throttled: {
    en: 'You are sending messages very fast; I will answer the next one in a moment.',
    ru: 'Вы отправляете сообщения слишком быстро; я отвечу на следующее чуть позже.',
  },
  chooseLanguage: { en: 'Choose your language:', ru: 'Выберите язык:' },
  languageChanged: { en: 'Language set to English.', ru: 'Язык переключён на русский.' },
  unknownCommand: {
    en: 'I do not know that command. Try /help.',
    ru: 'Я не знаю такой команды. Попробуйте /help.',
  },
  fallback: {
    en: 'Thanks for your message! I cannot answer that myself yet. Type /escalate to talk to a person.',
    ru: 'Спасибо за сообщение! Сам я пока не могу ответить. Напишите /escalate, чтобы связаться с человеком.',
  },
  media: {
    en: 'Thanks! I can only read text for now — please describe what you need in words.',
    ru: 'Спасибо! Пока я понимаю только текст — опишите, пожалуйста, что вам нужно, словами.',
  },
};

const LANGUAGE_NAMES: Record<string, string> = { en: 'English', ru: 'Русский' };

/** The language to answer a contact in: chosen with /language, else its Telegram language, else the bot's. */
export function customerLanguage(
  config: ResponderConfig,
  contact: { language: string | null; languageCode: string | null },
): string {
  if (contact.language && config.languages.includes(contact.language)) return contact.language;
  const code = contact.languageCode?.slice(0, 2).toLowerCase();
  if (code && config.languages.includes(code)) return code;
  return config.language;
}

/** A customer-facing text in `language`: the config's, else built-in, else English. */
export function textOf(config: ResponderConfig, key: string, language: string): string {
  const configured =
    key === 'greeting' ? config.greeting : key === 'helpText' ? config.helpText : config.messages[key];
  return (
    configured?.[language] ??
    BUILT_IN[key]?.[language] ??
    configured?.[config.language] ??
    configured?.en ??
    BUILT_IN[key]?.en ??
    key
  );
}

// ─── The simple responder ────────────────────────────────────────────────────

const REFERRAL = /^ref_([A-Za-z0-9_-]{1,60})$/;

export const simpleResponder: Responder = async ({ config, language, inbound, hasReferrer }) => {
  if (inbound.kind === 'callback') {
    const choice = /^lang:([a-z]{2})$/.exec(inbound.data)?.[1];
    if (choice && config.languages.includes(choice)) {
      return [
        { type: 'answer_callback' },
        { type: 'set_language', language: choice },
        { type: 'reply', text: textOf(config, 'languageChanged', choice) },
      ];
    }
    if (inbound.data === 'escalate') {
      return [{ type: 'answer_callback' }, ...escalate(config, language, 'button')];
    }
    return [{ type: 'answer_callback' }];
  }
  if (inbound.kind === 'media') return [{ type: 'reply', text: textOf(config, 'media', language) }];

  const text = inbound.text.trim();
  const command = /^\/([a-z_]+)(?:@\w+)?(?:\s+(.*))?$/i.exec(text);
  if (command) {
    const name = (command[1] ?? '').toLowerCase();
    const argument = (command[2] ?? '').trim();
    switch (name) {
      case 'start': {
        const actions: ResponderAction[] = [];
        const referral = REFERRAL.exec(argument)?.[1];
        if (referral && !hasReferrer) actions.push({ type: 'set_referrer', code: referral });
        actions.push({ type: 'reply', text: textOf(config, 'greeting', language) });
        return actions;
      }
      case 'help':
        return [{ type: 'reply', text: textOf(config, 'helpText', language) }];
      case 'contact':
        return [{ type: 'reply', text: config.managerContact || textOf(config, 'contact', language) }];
      case 'escalate':
        return escalate(config, language, 'command');
      case 'language':
        return [
          {
            type: 'reply',
            text: textOf(config, 'chooseLanguage', language),
            buttons: [
              config.languages.map((code) => ({
                text: LANGUAGE_NAMES[code] ?? code,
                callbackData: `lang:${code}`,
              })),
            ],
          },
        ];
      default:
        return [{ type: 'reply', text: textOf(config, 'unknownCommand', language) }];
    }
  }
  const lowered = text.toLowerCase();
  if (config.escalationKeywords.some((keyword) => keyword && lowered.includes(keyword.toLowerCase()))) {
    return escalate(config, language, 'keyword');
  }
  return [
    {
      type: 'reply',
      text: textOf(config, 'fallback', language),
      buttons: [
        [
          {
            text: language === 'ru' ? 'Связаться с человеком' : 'Talk to a person',
            callbackData: 'escalate',
          },
        ],
      ],
    },
  ];
};

function escalate(
  config: ResponderConfig,
  language: string,
  source: 'command' | 'keyword' | 'button',
): ResponderAction[] {
  return [
    {
      type: 'escalate',
      reason: source === 'keyword' ? 'escalation keyword' : 'customer asked for a person',
      source,
    },
    { type: 'reply', text: textOf(config, 'escalated', language) },
  ];
}
