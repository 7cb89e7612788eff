import type { AppContext } from '../context.ts';
import { findProductBySku, type Product, searchProducts } from '../features/catalog/service.ts';
import { matchQaPair } from '../features/knowledge/qa.ts';
import { searchKnowledge } from '../features/knowledge/search.ts';
import { type ResponderAction, type ResponderInput, textOf } from '../pipeline/simple-responder.ts';
import { truncateText } from '../platform/text.ts';
import { productCard, productCards } from './cards.ts';
import { type AssistantConfig, compilePattern, say } from './config.ts';
import { type MessageIntent, quotePassage, readIntent } from './intent.ts';
import { type CatalogTerms, catalogTerms, type ShopContext, shopContext } from './shop-context.ts';

/**
 * The offline responder: answers without any LLM, from the workspace's own data. It is what a
 * fresh install with no key shows, and what answers when every LLM provider fails.
 *
 * In order: a QA pair matching at its threshold → its answer; an article number → that
 * product; a shopping question (a price phrase, or catalog words with "show", "looking for",
 * "есть ли"…) → product cards, or "nothing found" with the categories; the knowledge base's
 * best passage when it scores at least `knowledgeMinScore`; catalog words alone → product
 * cards; otherwise an honest "I don't know" with a button to a person — and the second one in
 * a row escalates (`repeated_unknown`).
 */
export async function answerOffline(
  ctx: AppContext,
  input: ResponderInput,
  assistant: AssistantConfig,
  text: string,
): Promise<ResponderAction[]> {
  const { scope, config, language } = input;
  const query = truncateText(text.trim(), 500);

  const qa = await matchQaPair(ctx, scope.workspaceId, query);
  if (qa) {
    return [{ type: 'reply', text: qa.pair.answer }];
  }

  const intent = readIntent(query, compilePattern(assistant.skuPattern));
  for (const sku of intent.skus) {
    const product = await findProductBySku(ctx, scope.workspaceId, sku);
    if (!product) continue;
    trackSearch(ctx, input, query, 1);
    trackView(ctx, input, product);
    return [productCard(product, { config, language, full: true })];
  }

  const shop = await shopContext(ctx, scope.workspaceId);
  const terms = catalogTerms(shop, intent.words);
  const isShopping =
    intent.hasPrice ||
    intent.skus.length > 0 ||
    (terms.nouns.length > 0 && (intent.isShopping || (!intent.isPolicy && intent.words.length <= 3)));
  if (isShopping) {
    const found = await findProducts(ctx, scope.workspaceId, intent, terms, assistant.productCards);
    trackSearch(ctx, input, query, found.items.length);
    if (found.items.length > 0) {
      return productCards(found.items, { config, language, limit: assistant.productCards, more: found.more });
    }
    return [{ type: 'reply', text: nothingFound(input, shop, query) }];
  }

  const knowledge = await searchKnowledge(ctx, scope.workspaceId, query, { limit: 3 });
  const best = knowledge.hits[0];
  if (best && best.score >= assistant.knowledgeMinScore) {
    trackSearch(
      ctx,
      input,
      query,
      knowledge.hits.filter((hit) => hit.score >= assistant.knowledgeMinScore).length,
    );
    return [
      {
        type: 'reply',
        text: say(config, 'knowledgeAnswer', language, {
          passage: quotePassage(best.text, query),
          title: best.title,
        }),
      },
    ];
  }

  if (terms.nouns.length > 0) {
    const found = await findProducts(ctx, scope.workspaceId, intent, terms, assistant.productCards);
    trackSearch(ctx, input, query, found.items.length);
    if (found.items.length > 0) {
      return productCards(found.items, { config, language, limit: assistant.productCards, more: found.more });
    }
  } else {
    trackSearch(ctx, input, query, 0);
  }
  return dontKnow(input, assistant);
}

/**
 * A catalog search from what the message says: a category it names becomes a filter, price
 * phrases become a range, the other product words the query.
 */
export async function findProducts(
  ctx: AppContext,
  workspaceId: string,
  intent: Pick<MessageIntent, 'words' | 'priceMin' | 'priceMax'>,
  terms: CatalogTerms,
  cards: number,
): Promise<{ items: Product[]; more: number | string }> {
  const words = intent.words.filter((word) => word !== terms.categoryWord);
  const base = {
    ...(intent.priceMin !== undefined ? { priceMin: intent.priceMin } : {}),
    ...(intent.priceMax !== undefined ? { priceMax: intent.priceMax } : {}),
    limit: 20,
  };
  let result = await searchProducts(ctx, workspaceId, {
    ...base,
    ...(terms.category ? { category: terms.category } : {}),
    ...(words.length > 0 ? { q: words.join(' ') } : {}),
  });
  // The category alone when the other words narrowed it to nothing ("cosy sofas" → sofas).
  if (result.items.length === 0 && terms.category && words.length > 0) {
    result = await searchProducts(ctx, workspaceId, { ...base, category: terms.category });
  }
  // The words alone when the category guess was wrong.
  if (result.items.length === 0 && terms.category && intent.words.length > 0) {
    result = await searchProducts(ctx, workspaceId, { ...base, q: intent.words.join(' ') });
  }
  const extra = Math.max(0, result.items.length - cards);
  return { items: result.items, more: result.nextCursor ? `${extra}+` : extra };
}

/** "Nothing found for …" plus the catalog's categories, so the customer has somewhere to go. */
export function nothingFound(input: ResponderInput, shop: ShopContext, query: string): string {
  const { config, language } = input;
  const lines = [say(config, 'noProducts', language, { query: query.slice(0, 100) })];
  if (shop.categories.length > 0) {
    lines.push(
      say(config, 'catalogCategories', language, { categories: shop.categories.slice(0, 10).join(', ') }),
    );
  }
  return lines.join(' ');
}

// ─── "I don't know" ──────────────────────────────────────────────────────────

/**
 * An honest "I don't know" with a button to a person — unless the bot's previous answers in
 * the conversation were already that often "I don't know" (`escalateAfterUnknown`, default
 * 2: the second in a row escalates, `repeated_unknown`). The memory window is the record, so
 * any other answer in between starts the count again (a memory window of 0 turns it off).
 */
export async function dontKnow(
  input: ResponderInput,
  assistant: AssistantConfig,
): Promise<ResponderAction[]> {
  const { config, language } = input;
  if (assistant.escalateAfterUnknown > 0) {
    const unknownTexts = new Set(config.languages.map((code) => say(config, 'dontKnow', code)));
    let streak = 0;
    for (const entry of (await input.loadMemory()).reverse()) {
      if (entry.direction !== 'out') continue;
      if (!entry.text || !unknownTexts.has(entry.text)) break;
      streak += 1;
    }
    if (streak + 1 >= assistant.escalateAfterUnknown) {
      return [
        {
          type: 'escalate',
          reason: `the assistant could not answer ${streak + 1} time(s) in a row`,
          source: 'repeated_unknown',
        },
        { type: 'reply', text: textOf(config, 'escalated', language) },
      ];
    }
  }
  return [
    {
      type: 'reply',
      text: say(config, 'dontKnow', language),
      buttons: [[{ text: say(config, 'talkToPerson', language), callbackData: 'escalate' }]],
    },
  ];
}

// ─── Analytics ───────────────────────────────────────────────────────────────

export function trackSearch(
  ctx: AppContext,
  input: ResponderInput,
  query: string,
  results: number,
  source: 'offline' | 'llm' = 'offline',
): void {
  if (isPreview(input)) return;
  const { workspaceId, botId, channelId, contactId } = input.scope;
  ctx.analytics.track({
    workspaceId,
    botId,
    channelId,
    contactId,
    type: 'search',
    data: { query: truncateText(query, 200), results, source },
  });
}

export function trackView(ctx: AppContext, input: ResponderInput, product: Product): void {
  if (isPreview(input)) return;
  const { workspaceId, botId, channelId, contactId } = input.scope;
  ctx.analytics.track({
    workspaceId,
    botId,
    channelId,
    contactId,
    type: 'product_view',
    data: { productId: product.id, title: product.name },
  });
}

// The panel's playground answers with nil ids (no channel, contact or conversation): its
// turns are previews, not customer activity.
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

function isPreview(input: ResponderInput): boolean {
  return input.scope.conversationId === NIL_UUID;
}
