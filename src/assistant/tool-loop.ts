import type { AppContext } from '../context.ts';
import type { ResponderAction, ResponderInput } from '../pipeline/simple-responder.ts';
import { productCard, productCards } from './cards.ts';
import { type AssistantConfig, say } from './config.ts';
import type { ChatCompletionMessageParam, LlmClient } from './llm/index.ts';
import { type ShopContext, shopContext } from './shop-context.ts';
import { runTool, TOOL_DEFINITIONS, type ToolState } from './tools.ts';

/** What the loop produced: the actions, or `exhausted` when the model never gave a final answer. */
export type ToolLoopResult =
  | { kind: 'answer'; actions: ResponderAction[] }
  | { kind: 'exhausted'; state: ToolState };

const LANGUAGE_NAMES: Record<string, string> = { en: 'English', ru: 'Russian' };

/**
 * One customer message through the LLM with tools: the bot's system prompt and a built-in
 * preamble, the conversation's memory window, then up to `maxToolRounds` rounds of tool
 * calls. The final text becomes a reply, followed by cards of the products the model found
 * and an escalation if it asked for one. Tool argument errors go back to the model; LLM
 * failures (`LlmUnavailableError`, `LlmRequestError`) propagate to the caller, which answers
 * offline.
 */
export async function runToolLoop(
  ctx: AppContext,
  input: ResponderInput,
  llm: LlmClient,
  assistant: AssistantConfig,
  text: string,
): Promise<ToolLoopResult> {
  const { scope, config, language } = input;
  const shop = await shopContext(ctx, scope.workspaceId);
  const messages: ChatCompletionMessageParam[] = [
    { role: 'system', content: systemPrompt(assistant, shop, language) },
    ...(await memoryMessages(input)),
    { role: 'user', content: text },
  ];
  const state: ToolState = { ctx, input, found: [], viewed: [], more: false };
  const usage = {
    workspaceId: scope.workspaceId,
    botId: scope.botId,
    conversationId: scope.conversationId,
    purpose: 'chat' as const,
  };

  for (let round = 0; round < assistant.maxToolRounds; round++) {
    const { message } = await llm.chat(
      { messages, tools: TOOL_DEFINITIONS, temperature: assistant.temperature, maxTokens: 800 },
      usage,
    );
    const calls = (message.tool_calls ?? []).flatMap((call) => (call.type === 'function' ? [call] : []));
    if (calls.length === 0) {
      const answer = message.content?.trim() ?? '';
      if (answer === '') break;
      return { kind: 'answer', actions: finalActions(input, assistant, state, answer) };
    }
    messages.push({ role: 'assistant', content: message.content ?? null, tool_calls: calls });
    for (const call of calls) {
      const content = await runTool(state, call.function.name, call.function.arguments);
      messages.push({ role: 'tool', tool_call_id: call.id, content });
    }
  }
  ctx.logger.info(
    { workspaceId: scope.workspaceId, conversationId: scope.conversationId, rounds: assistant.maxToolRounds },
    'assistant: tool rounds exhausted without an answer',
  );
  if (state.found.length > 0 || state.viewed.length > 0 || state.escalation) {
    return {
      kind: 'answer',
      actions: finalActions(input, assistant, state, say(config, 'productsFound', language)),
    };
  }
  return { kind: 'exhausted', state };
}

function finalActions(
  input: ResponderInput,
  assistant: AssistantConfig,
  state: ToolState,
  answer: string,
): ResponderAction[] {
  const { config, language } = input;
  const actions: ResponderAction[] = [];
  if (state.escalation) {
    actions.push({
      type: 'escalate',
      reason: state.escalation.reason,
      source: 'llm',
      ...(state.escalation.productId ? { productId: state.escalation.productId } : {}),
    });
  }
  if (state.found.length > 0) {
    const more =
      state.found.length > assistant.productCards ? state.found.length - assistant.productCards : 0;
    actions.push(
      ...productCards(state.found, {
        config,
        language,
        limit: assistant.productCards,
        more: state.more ? `${more}+` : more,
        intro: answer,
      }),
    );
  } else {
    actions.push({ type: 'reply', text: answer });
    for (const product of state.viewed.slice(0, assistant.productCards)) {
      actions.push(productCard(product, { config, language, full: true }));
    }
  }
  return actions;
}

/** The built-in preamble after the bot's own prompt: the shop, the language, how to use the tools. */
function systemPrompt(assistant: AssistantConfig, shop: ShopContext, language: string): string {
  const lines = [
    assistant.systemPrompt,
    '',
    '## Context',
    `You answer customers of ${shop.name ? `"${shop.name}"` : 'the shop'} in a Telegram chat.`,
    ...(assistant.about ? [assistant.about] : []),
    `Today is ${new Date().toISOString().slice(0, 10)}. Prices are in ${shop.currency}.`,
    ...(shop.categories.length > 0
      ? [`Catalog categories: ${shop.categories.slice(0, 30).join(', ')}.`]
      : []),
    `Answer in ${LANGUAGE_NAMES[language] ?? language}, unless the customer writes in another language.`,
    '',
    '## Tools',
    '- Products, prices, availability: call search_products (or get_product for one item). Never invent products, prices or stock. The customer sees the products you found as cards with photos and buttons right after your message, so introduce them in one or two sentences instead of listing every detail.',
    '- Delivery, payment, returns, warranty and other shop rules: call search_knowledge and answer only from the passages. If they do not answer the question, say you do not know and offer a manager.',
    `- Price drop alerts: call create_price_alert with a target price; if the customer gave none, use ${assistant.priceAlertDiscountPercent}% below the current price and say so.`,
    '- A person: call escalate_to_human when the customer asks for one, is upset, or needs a decision only staff can make.',
    'Write plain text without Markdown, briefly.',
  ];
  return lines.join('\n');
}

/**
 * The memory window as chat messages, oldest first. The last inbound row is the message being
 * answered (stored before the responder runs), so it is left out and sent as the user turn.
 */
async function memoryMessages(input: ResponderInput): Promise<ChatCompletionMessageParam[]> {
  const memory = await input.loadMemory();
  if (memory.at(-1)?.direction === 'in') memory.pop();
  return memory.flatMap((entry): ChatCompletionMessageParam[] => {
    const content = entry.text?.trim();
    if (!content) return [];
    return [entry.direction === 'in' ? { role: 'user', content } : { role: 'assistant', content }];
  });
}
