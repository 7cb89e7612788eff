import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';

/**
 * Every environment variable Switchboard reads, in one place. The README's configuration
 * table is generated from the `describe()` texts here (see `configDocs`), so keep them short.
 */
const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const optionalUrl = z.url().optional();

export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development').describe('Runtime mode'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000).describe('HTTP port'),
  HOST: z.string().min(1).default('0.0.0.0').describe('Interface to listen on'),
  PUBLIC_URL: optionalUrl.describe(
    'Public base URL (https) Telegram and browsers reach; enables webhook mode and absolute links',
  ),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional()
    .describe('PostgreSQL connection URL; unset → embedded PGlite in the data dir'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10).describe('node-postgres pool size'),
  SWITCHBOARD_DATA_DIR: z
    .string()
    .min(1)
    .default('./data')
    .describe('Folder for the embedded database and generated secret'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// URL')
    .optional()
    .describe('Redis URL; unset → in-process queue, pub/sub, rate limits and cache'),
  SWITCHBOARD_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters')
    .optional()
    .describe('Key for signing tokens and encrypting stored secrets; generated into the data dir when unset'),
  SWITCHBOARD_ADMIN_EMAIL: z.email().optional().describe('Email of the first owner, created on first start'),
  SWITCHBOARD_ADMIN_PASSWORD: z
    .string()
    .min(8, 'must be at least 8 characters')
    .optional()
    .describe('Password of the first owner'),
  SWITCHBOARD_ALLOW_SIGNUP: booleanString.default(true).describe('Whether anyone may register an account'),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .describe(
      'Comma-separated origins allowed to call the API from a browser (the panel itself is same-origin)',
    ),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1_048_576)
    .describe('Largest accepted JSON body'),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(30)
    .default(900)
    .describe('Lifetime of a JWT access token'),
  REFRESH_TOKEN_TTL_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .default(30)
    .describe('Lifetime of a refresh token family'),
  SMTP_URL: z
    .string()
    .optional()
    .describe('smtp(s):// URL for outgoing mail; unset → mail is logged and kept in the outbox table'),
  MAIL_FROM: z
    .string()
    .default('Switchboard <no-reply@switchboard.local>')
    .describe('From address of outgoing mail'),
  TELEGRAM_API_ROOT: z.url().default('https://api.telegram.org').describe('Telegram Bot API base URL'),
  WHATSAPP_API_ROOT: z.url().default('https://graph.facebook.com').describe('WhatsApp Cloud API base URL'),
  LLM_BASE_URL: optionalUrl.describe('OpenAI-compatible base URL of the platform default LLM'),
  LLM_API_KEY: z.string().optional().describe('API key of the platform default LLM'),
  LLM_MODEL: z.string().optional().describe('Model name of the platform default LLM'),
  LLM_EMBEDDINGS_MODEL: z
    .string()
    .optional()
    .describe('Embeddings model of the platform default LLM (enables vector search)'),
  LLM_TRANSCRIPTION_MODEL: z
    .string()
    .optional()
    .describe('Speech-to-text model of the platform default LLM, e.g. whisper-1 (enables voice)'),
  LLM_VISION_MODEL: z
    .string()
    .optional()
    .describe('Image-understanding model of the platform default LLM (describes photos)'),
  LLM_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000).describe('Timeout of one LLM request'),
  LLM_MAX_RETRIES: z.coerce
    .number()
    .int()
    .min(0)
    .max(10)
    .default(2)
    .describe('Retries of a failed LLM request on the same provider before the next one is tried'),
  LLM_RETRY_BASE_MS: z.coerce
    .number()
    .int()
    .min(1)
    .default(500)
    .describe('First LLM retry delay; doubles per retry, with jitter'),
  LLM_BREAKER_THRESHOLD: z.coerce
    .number()
    .int()
    .min(1)
    .default(5)
    .describe("Consecutive failures that open an LLM provider's circuit breaker"),
  LLM_BREAKER_COOLDOWN_MS: z.coerce
    .number()
    .int()
    .min(10)
    .default(30_000)
    .describe('How long an open LLM circuit breaker skips its provider before one probe call'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino log level'),
  SHUTDOWN_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(4000)
    .describe('Grace period to drain on SIGTERM'),
  OPERATOR_PRESENCE_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(500)
    .default(90_000)
    .describe('An operator without a presence heartbeat for this long goes offline'),
  SSE_HEARTBEAT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(15_000)
    .describe('Interval of keep-alive comments on event streams'),
  SSE_MAX_BUFFER_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1_048_576)
    .describe('An event-stream client with more unsent bytes than this is dropped'),
  KNOWLEDGE_MAX_UPLOAD_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(20_971_520)
    .describe('Largest knowledge document accepted, uploaded or fetched from a URL'),
  KNOWLEDGE_URL_ALLOWLIST: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((entry) => entry.trim().toLowerCase())
        .filter(Boolean),
    )
    .describe(
      'Comma-separated hosts or CIDRs knowledge URLs may reach although private (e.g. intranet.local,10.1.0.0/16)',
    ),
});

export type Env = z.infer<typeof envSchema>;

export interface Config extends Env {
  /** Absolute path of SWITCHBOARD_DATA_DIR. */
  dataDir: string;
}

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses configuration from `source` (process.env by default) merged over a `.env` file in
 * the working directory. Throws ConfigError naming every bad variable.
 */
export function loadConfig(source: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const dotenvPath = path.join(cwd, '.env');
  const fromFile = existsSync(dotenvPath) ? parseDotenv(readFileSync(dotenvPath)) : {};
  // Empty strings mean "unset": `FOO= npm start` should not fail validation of an optional URL.
  const merged = Object.fromEntries(
    Object.entries({ ...fromFile, ...source }).filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = envSchema.safeParse(merged);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  }
  return { ...result.data, dataDir: path.resolve(cwd, result.data.SWITCHBOARD_DATA_DIR) };
}

/** Rows of the README configuration table: variable, default, meaning. */
export function configDocs(): Array<{ name: string; defaultValue: string; description: string }> {
  return Object.entries(envSchema.shape).map(([name, schema]) => {
    const parsed = schema.safeParse(undefined);
    const defaultValue = parsed.success && parsed.data !== undefined ? JSON.stringify(parsed.data) : '';
    return { name, defaultValue, description: schema.description ?? '' };
  });
}
