import { z } from 'zod';

/**
 * Form schemas of the operating screens, mirrored from the API's route schemas (the route
 * modules import the server and cannot be bundled): src/features/analytics, handoff,
 * knowledge, catalog, llm, escalations. Text inputs hold strings; numbers are parsed here.
 */
const numberFrom = (schema: z.ZodNumber) =>
  z
    .string()
    .trim()
    .min(1, 'required')
    .transform((value) => Number(value.replace(',', '.')))
    .pipe(schema);

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .transform((value) => (value === '' ? null : value));

export const shareLinkSchema = z.object({
  name: z.string().trim().min(1, 'required').max(120),
  expiresInDays: numberFrom(z.number().int().min(1).max(365)),
});

export const cannedResponseSchema = z.object({
  shortcut: z
    .string()
    .trim()
    .min(1, 'required')
    .max(50)
    .regex(/^[\p{L}\p{N}_-]+$/u, 'letters, digits, _ and - only'),
  text: z.string().trim().min(1, 'required').max(4096),
});

export const qaPairSchema = z.object({
  question: z.string().trim().min(1, 'required').max(1000),
  answer: z.string().trim().min(1, 'required').max(4000),
  threshold: numberFrom(z.number().min(0).max(1)),
  enabled: z.boolean(),
});

export const urlDocumentSchema = z.object({
  url: z.url({ protocol: /^https?$/ }).max(2000),
  title: z.string().trim().max(300),
});

export const textDocumentSchema = z.object({
  title: z.string().trim().min(1, 'required').max(300),
  text: z.string().trim().min(1, 'required').max(1_000_000),
});

export const productSchema = z.object({
  sku: z.string().trim().min(1, 'required').max(100),
  name: z.string().trim().min(1, 'required').max(300),
  description: optionalText(10_000),
  price: numberFrom(z.number().min(0).max(1e12)),
  currency: z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code such as RUB or USD'),
  category: optionalText(200),
  available: z.boolean(),
});

export const llmProviderSchema = z.object({
  name: z.string().trim().min(1, 'required').max(80),
  baseUrl: z.url({ protocol: /^https?$/ }).max(500),
  apiKey: z.string().trim().max(500),
  chatModel: optionalText(200),
  embeddingsModel: optionalText(200),
  transcriptionModel: optionalText(200),
  visionModel: optionalText(200),
  priority: numberFrom(z.number().int().min(-1000).max(1000)),
  enabled: z.boolean(),
});

export const escalationSettingsSchema = z.object({
  slaMinutes: numberFrom(z.number().int().min(1).max(10_080)),
  assignment: z.enum(['manual', 'auto']),
  snapshotSize: numberFrom(z.number().int().min(1).max(100)),
  notifyTelegramChatId: optionalText(64),
  emailAssignee: z.boolean(),
});

export const noteSchema = z.object({ body: z.string().trim().min(1, 'required').max(10_000) });
