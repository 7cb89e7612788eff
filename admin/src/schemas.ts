import { z } from 'zod';

/**
 * Form schemas mirrored from the API's route schemas (src/features/*\/routes.ts): those
 * modules import the server and cannot be bundled. The bot config editor imports the real
 * `botConfigSchema` (src/features/bots/bot-config.ts), which is browser-safe.
 */
export const emailSchema = z.email().max(254);
export const passwordSchema = z.string().min(8, 'must be at least 8 characters').max(200);
const name = z.string().trim().max(120);

export const signInSchema = z.object({ email: emailSchema, password: z.string().min(1).max(200) });

export const setupSchema = z.object({
  name: name.optional(),
  email: emailSchema,
  password: passwordSchema,
  workspaceName: z.string().trim().min(1).max(120),
});

export const resetRequestSchema = z.object({ email: emailSchema });
export const resetConfirmSchema = z.object({ password: passwordSchema });
export const registerWithInvitationSchema = z.object({ name: name.optional(), password: passwordSchema });

export const ROLES = ['owner', 'admin', 'operator', 'viewer'] as const;
export const inviteSchema = z.object({ email: emailSchema, role: z.enum(ROLES) });

const timezone = z
  .string()
  .max(64)
  .refine((zone) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone such as Europe/Moscow');

export const workspaceSchema = z.object({
  name: z.string().trim().min(1).max(120),
  timezone,
  currency: z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code such as RUB or USD'),
  language: z.enum(['en', 'ru']),
});

export const createWorkspaceSchema = z.object({ name: z.string().trim().min(1).max(120) });

export const botSchema = z.object({
  name: z.string().trim().min(1).max(120),
  description: z.string().trim().max(2000).optional(),
});

export const TELEGRAM_TOKEN_PATTERN = /^\d{1,20}:[A-Za-z0-9_-]{20,100}$/;
export const telegramChannelSchema = z.object({
  token: z
    .string()
    .trim()
    .regex(TELEGRAM_TOKEN_PATTERN, 'must be a bot token from @BotFather, like 123456789:AAE…'),
  mode: z.enum(['webhook', 'polling']),
});

export const API_KEY_SCOPES = ['read', 'write', 'admin'] as const;
export const apiKeySchema = z.object({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(z.enum(API_KEY_SCOPES)).min(1).max(3),
});
