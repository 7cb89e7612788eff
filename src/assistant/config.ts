import { z } from 'zod';
import { type BotConfig, defaultBotConfig } from '../features/bots/bot-config.ts';
import type { ResponderConfig } from '../pipeline/simple-responder.ts';

/**
 * The assistant's settings from a published bot config, read tolerantly: a field that is
 * missing or invalid (a config written by an older version) takes its default rather than
 * failing the customer's message.
 */
export type AssistantConfig = BotConfig['assistant'] & { systemPrompt: string };

const DEFAULTS = defaultBotConfig();

const assistantSchema = z.object({
  mode: z.enum(['auto', 'llm', 'offline']).catch(DEFAULTS.assistant.mode),
  about: z.string().max(2000).catch(DEFAULTS.assistant.about),
  maxToolRounds: z.number().int().min(1).max(10).catch(DEFAULTS.assistant.maxToolRounds),
  temperature: z.number().min(0).max(2).catch(DEFAULTS.assistant.temperature),
  skuPattern: z
    .string()
    .min(1)
    .max(200)
    .refine((pattern) => compilePattern(pattern) !== undefined)
    .catch(DEFAULTS.assistant.skuPattern),
  knowledgeMinScore: z.number().min(0).max(1).catch(DEFAULTS.assistant.knowledgeMinScore),
  productCards: z.number().int().min(1).max(10).catch(DEFAULTS.assistant.productCards),
  priceAlertDiscountPercent: z.number().min(1).max(90).catch(DEFAULTS.assistant.priceAlertDiscountPercent),
  ocr: z.boolean().catch(DEFAULTS.assistant.ocr),
  escalateAfterUnknown: z.number().int().min(0).max(10).catch(DEFAULTS.assistant.escalateAfterUnknown),
});

const rawSchema = z.object({
  systemPrompt: z.string().min(1).max(20_000).catch(DEFAULTS.systemPrompt),
  assistant: z.unknown(),
});

/** Parsed configs by the stored config object: a published config is read once, not per update. */
const parsedConfigs = new WeakMap<object, AssistantConfig>();

/** Reads the `assistant` section and `systemPrompt` of a stored bot config (shared: read-only). */
export function readAssistantConfig(rawConfig: unknown): AssistantConfig {
  const cached = isRecord(rawConfig) ? parsedConfigs.get(rawConfig) : undefined;
  if (cached) return cached;
  const raw = rawSchema.parse(isRecord(rawConfig) ? rawConfig : {});
  const assistant = assistantSchema.parse(isRecord(raw.assistant) ? raw.assistant : {});
  const parsed = { ...assistant, systemPrompt: raw.systemPrompt };
  if (isRecord(rawConfig)) parsedConfigs.set(rawConfig, parsed);
  return parsed;
}

/** The SKU pattern as a global, case-insensitive regular expression (undefined when invalid). */
export function compilePattern(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern, 'giu');
  } catch {
    return undefined;
  }
}

type MessageKey = keyof BotConfig['messages'];

/**
 * A customer-facing text in `language` with `{placeholders}` filled: the bot's configured text,
 * else the default of the current config schema (for configs published before the key existed).
 */
export function say(
  config: ResponderConfig,
  key: MessageKey,
  language: string,
  values: Record<string, string | number> = {},
): string {
  const defaults: Record<string, string> = DEFAULTS.messages[key];
  const template =
    config.messages[key]?.[language] ??
    defaults[language] ??
    config.messages[key]?.[config.language] ??
    defaults[config.language] ??
    DEFAULTS.messages[key].en;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in values ? String(values[name]) : whole,
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
