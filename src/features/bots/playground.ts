import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import {
  type Responder,
  type ResponderAction,
  type ResponderInbound,
  readResponderConfig,
} from '../../pipeline/simple-responder.ts';
import { AppError } from '../../platform/errors.ts';
import { type BotConfig, botConfigSchema } from './bot-config.ts';
import { getBot, getBotConfigState } from './service.ts';

/**
 * The bot playground: one turn of a conversation with the bot's responder, without a channel,
 * a contact or a stored message. It runs the pipeline's own responder (the one customers get)
 * on the config being edited: the unsaved editor state when the panel sends it, else the
 * draft, else the published version. Nothing is written: escalations and language changes
 * come back as notes instead of happening.
 */

// Ids of the synthetic conversation: valid uuids that match no row, so a responder that
// looks data up by them finds nothing instead of failing on the id's format.
const NONE = '00000000-0000-0000-0000-000000000000';
const TEXT_LIMIT = 4096;

export const playgroundBodySchema = z.strictObject({
  text: z.string().trim().min(1).max(TEXT_LIMIT).optional().describe('What the customer writes'),
  callbackData: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .describe('Or: the callbackData of a button the customer pressed'),
  history: z
    .array(z.object({ direction: z.enum(['in', 'out']), text: z.string().max(TEXT_LIMIT) }))
    .max(100)
    .default([])
    .describe('Earlier turns, oldest first (the memory window applies)'),
  language: z.enum(['en', 'ru']).optional().describe("The customer's language; default the bot's"),
  config: botConfigSchema.optional().describe('Unsaved config to try; default the draft, else published'),
});

export type PlaygroundBody = z.output<typeof playgroundBodySchema>;

const buttonsSchema = z.array(z.array(z.object({ text: z.string(), callbackData: z.string() })));

export const playgroundMessageSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('text'), text: z.string(), buttons: buttonsSchema.optional() }),
    z.object({
      type: z.literal('photo'),
      photo: z.string(),
      caption: z.string().optional(),
      buttons: buttonsSchema.optional(),
    }),
    z.object({
      type: z.literal('note'),
      kind: z.enum(['escalation', 'language', 'referrer', 'callback', 'annotation']),
      text: z.string(),
    }),
  ])
  .meta({ id: 'PlaygroundMessage' });

export const playgroundResultSchema = z.object({
  source: z.enum(['request', 'draft', 'published']).describe('Which config answered'),
  language: z.enum(['en', 'ru']),
  messages: z.array(playgroundMessageSchema),
});

export type PlaygroundMessage = z.infer<typeof playgroundMessageSchema>;

/** Runs one playground turn for a bot of the workspace. */
export async function runPlayground(
  ctx: AppContext,
  responder: Responder,
  options: { workspaceId: string; botId: string; body: PlaygroundBody },
): Promise<z.infer<typeof playgroundResultSchema>> {
  const { body } = options;
  const inbound: ResponderInbound | undefined = body.callbackData
    ? { kind: 'callback', data: body.callbackData }
    : body.text
      ? { kind: 'text', text: body.text }
      : undefined;
  if (!inbound) {
    throw new AppError('VALIDATION_ERROR', {
      message: 'text or callbackData is required',
      details: [{ path: '/text', message: 'required' }],
    });
  }
  const { config, source } = await configToTry(ctx, options);
  const language = body.language ?? config.language;
  const responderConfig = readResponderConfig(config);
  const actions = await responder({
    scope: {
      workspaceId: options.workspaceId,
      botId: options.botId,
      channelId: NONE,
      contactId: NONE,
      conversationId: NONE,
    },
    config: responderConfig,
    rawConfig: config,
    downloadFile: async () => {
      throw new AppError('BAD_REQUEST', { message: 'The playground cannot receive files' });
    },
    language,
    inbound,
    isFirstContact: body.history.length === 0,
    hasReferrer: false,
    loadMemory: async () =>
      responderConfig.memoryWindow === 0 ? [] : body.history.slice(-responderConfig.memoryWindow),
  });
  return { source, language, messages: actions.flatMap(toMessages) };
}

async function configToTry(
  ctx: AppContext,
  options: { workspaceId: string; botId: string; body: PlaygroundBody },
): Promise<{ config: BotConfig; source: 'request' | 'draft' | 'published' }> {
  if (options.body.config) {
    await getBot(ctx, options);
    return { config: options.body.config, source: 'request' };
  }
  const state = await getBotConfigState(ctx, options);
  return state.draft
    ? { config: state.draft.config, source: 'draft' }
    : { config: state.published.config, source: 'published' };
}

function toMessages(action: ResponderAction): PlaygroundMessage[] {
  switch (action.type) {
    case 'reply':
      return [{ type: 'text', text: action.text, ...(action.buttons ? { buttons: action.buttons } : {}) }];
    case 'reply_photo':
      return [
        {
          type: 'photo',
          photo: action.photo,
          ...(action.caption === undefined ? {} : { caption: action.caption }),
          ...(action.buttons ? { buttons: action.buttons } : {}),
        },
      ];
    case 'escalate':
      return [
        {
          type: 'note',
          kind: 'escalation',
          text: `Escalated to people (${action.source}): ${action.reason}`,
        },
      ];
    case 'set_language':
      return [{ type: 'note', kind: 'language', text: `Language set to ${action.language}` }];
    case 'set_referrer':
      return [{ type: 'note', kind: 'referrer', text: `Referral code recorded: ${action.code}` }];
    case 'answer_callback':
      return action.text ? [{ type: 'note', kind: 'callback', text: action.text }] : [];
    case 'annotate_inbound':
      return [{ type: 'note', kind: 'annotation', text: `${action.kind}: ${action.text}` }];
  }
}
