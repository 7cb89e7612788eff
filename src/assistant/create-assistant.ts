import type { AppContext } from '../context.ts';
import {
  type Responder,
  type ResponderAction,
  type ResponderInput,
  simpleResponder,
  textOf,
} from '../pipeline/simple-responder.ts';
import { answerCardButton } from './callbacks.ts';
import { type AssistantConfig, readAssistantConfig } from './config.ts';
import { getLlm, type LlmClient, LlmRequestError, LlmUnavailableError } from './llm/index.ts';
import { assistantMetrics } from './metrics.ts';
import { answerOffline } from './offline.ts';
import { answerPhoto } from './photo.ts';
import { answerVoice } from './speech.ts';
import { runToolLoop } from './tool-loop.ts';

const COMMAND = /^\/[a-z_]+(?:@\w+)?(?:\s|$)/i;

/**
 * The assistant behind the pipeline's responder port. Commands (/start, /help, /contact,
 * /language, /escalate), the language buttons and the "talk to a person" button keep the
 * simple responder's behaviour; product-card buttons, free text, photos and voice are the
 * assistant's: the LLM tool loop when the workspace has an LLM (`assistant.mode` auto or
 * llm), the offline responder when it has none or every provider failed.
 */
export function createAssistant(ctx: AppContext): Responder {
  const metrics = assistantMetrics(ctx.metrics);
  return async (input) => {
    const started = performance.now();
    const assistant = readAssistantConfig(input.rawConfig);
    const { inbound } = input;
    let path: 'llm' | 'offline' | 'simple' = 'simple';
    const answerText = async (text: string) => {
      const answered = await answerTextMessage(ctx, input, assistant, text);
      path = answered.path;
      return answered.actions;
    };

    let kind: string = inbound.kind;
    let actions: ResponderAction[];
    if (inbound.kind === 'callback') {
      const card = await answerCardButton(ctx, input, assistant, inbound.data);
      if (card) path = 'offline';
      actions = card ?? (await simpleResponder(input));
    } else if (inbound.kind === 'text') {
      actions = COMMAND.test(inbound.text.trim())
        ? await simpleResponder(input)
        : await answerText(inbound.text);
    } else {
      kind = inbound.type;
      if (inbound.type === 'photo') {
        path = 'offline';
        actions = await answerPhoto(ctx, input, assistant, inbound, answerText);
      } else if (inbound.type === 'voice' || inbound.type === 'audio') {
        path = 'offline';
        actions = await answerVoice(ctx, input, assistant, inbound, answerText);
      } else if (inbound.caption?.trim()) {
        actions = await answerText(inbound.caption);
      } else {
        actions = await simpleResponder(input);
      }
    }
    if (path !== 'simple') {
      metrics.answers.inc({ path, input: kind });
      metrics.duration.observe({ path }, (performance.now() - started) / 1000);
    }
    return actions;
  };
}

/**
 * A customer's words (typed, a caption, or a voice transcript): escalation keywords first — a
 * customer asking for a person gets one without a model in between — then the LLM, then the
 * offline responder.
 */
async function answerTextMessage(
  ctx: AppContext,
  input: ResponderInput,
  assistant: AssistantConfig,
  text: string,
): Promise<{ path: 'llm' | 'offline'; actions: ResponderAction[] }> {
  const { config, language, scope } = input;
  const lowered = text.toLowerCase();
  if (config.escalationKeywords.some((keyword) => keyword && lowered.includes(keyword.toLowerCase()))) {
    return {
      path: 'offline',
      actions: [
        { type: 'escalate', reason: 'escalation keyword', source: 'keyword' },
        { type: 'reply', text: textOf(config, 'escalated', language) },
      ],
    };
  }
  const metrics = assistantMetrics(ctx.metrics);
  if (assistant.mode !== 'offline') {
    const llm = await chatModel(ctx, scope.workspaceId);
    if (llm) {
      try {
        const result = await runToolLoop(ctx, input, llm, assistant, text);
        if (result.kind === 'answer') return { path: 'llm', actions: result.actions };
        metrics.offlineFallbacks.inc({ reason: 'exhausted' });
      } catch (error) {
        if (!(error instanceof LlmUnavailableError || error instanceof LlmRequestError)) throw error;
        const reason = error instanceof LlmUnavailableError ? 'unavailable' : 'refused';
        metrics.offlineFallbacks.inc({ reason });
        ctx.logger.warn(
          { err: error, workspaceId: scope.workspaceId, conversationId: scope.conversationId },
          `assistant: LLM ${reason}; answering offline`,
        );
      }
    } else {
      metrics.offlineFallbacks.inc({ reason: 'none' });
      if (assistant.mode === 'llm') {
        ctx.logger.warn(
          { workspaceId: scope.workspaceId },
          'assistant: mode llm but no chat model configured',
        );
      }
    }
  }
  return { path: 'offline', actions: await answerOffline(ctx, input, assistant, text) };
}

async function chatModel(ctx: AppContext, workspaceId: string): Promise<LlmClient | undefined> {
  const llm = await getLlm(ctx, workspaceId);
  return llm?.capabilities.chat ? llm : undefined;
}
