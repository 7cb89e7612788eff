import type { AppContext } from '../context.ts';
import { createPriceAlert, getProduct, searchProducts } from '../features/catalog/service.ts';
import { type ResponderAction, type ResponderInput, textOf } from '../pipeline/simple-responder.ts';
import { AppError } from '../platform/errors.ts';
import { CARD_CALLBACK, formatPrice, productCard, productCards } from './cards.ts';
import { type AssistantConfig, say } from './config.ts';
import { trackView } from './offline.ts';

/**
 * The buttons of product cards: `p:<id>` details (the full card), `pm:<id>` similar products,
 * `pa:<id>` a price alert a few percent below the current price, `h:<id>` a person, about
 * this product. Undefined for any other callback (the simple responder handles those).
 */
export async function answerCardButton(
  ctx: AppContext,
  input: ResponderInput,
  assistant: AssistantConfig,
  data: string,
): Promise<ResponderAction[] | undefined> {
  const match = CARD_CALLBACK.exec(data);
  if (!match) return undefined;
  const [, verb, productId = ''] = match;
  const { scope, config, language } = input;
  const product = await getProduct(ctx, scope.workspaceId, productId);
  if (!product) {
    const gone = say(config, 'productGone', language);
    return [
      { type: 'answer_callback', text: gone },
      ...(verb === 'h' ? escalate(input, 'customer asked for a person from a product card') : []),
    ];
  }
  switch (verb) {
    case 'p':
      trackView(ctx, input, product);
      return [{ type: 'answer_callback' }, productCard(product, { config, language, full: true })];
    case 'pm': {
      const similar = await similarProducts(ctx, scope.workspaceId, product, assistant.productCards);
      if (similar.length === 0) {
        return [
          { type: 'answer_callback' },
          { type: 'reply', text: say(config, 'noSimilar', language, { name: product.name }) },
        ];
      }
      return [
        { type: 'answer_callback' },
        ...productCards(similar, {
          config,
          language,
          limit: assistant.productCards,
          intro: say(config, 'similarFound', language, { name: product.name }),
          more: 0,
        }),
      ];
    }
    case 'pa': {
      const target = Math.floor(product.price * (1 - assistant.priceAlertDiscountPercent / 100));
      let alert: Awaited<ReturnType<typeof createPriceAlert>>['alert'];
      try {
        ({ alert } = await createPriceAlert(ctx, {
          workspaceId: scope.workspaceId,
          contactId: scope.contactId,
          conversationId: scope.conversationId,
          productId: product.id,
          targetPrice: target,
        }));
      } catch (error) {
        // No conversation to notify (the panel's playground has none): say so on the button.
        if (error instanceof AppError) return [{ type: 'answer_callback', text: error.message }];
        throw error;
      }
      const text = say(config, 'priceAlertSet', language, {
        name: product.name,
        target: formatPrice(alert.targetPrice, product.currency, language),
        price: formatPrice(product.price, product.currency, language),
      });
      return [{ type: 'answer_callback' }, { type: 'reply', text }];
    }
    default:
      return [
        { type: 'answer_callback' },
        ...escalate(input, `customer asked for a person about ${product.sku}`, product.id),
      ];
  }
}

function escalate(input: ResponderInput, reason: string, productId?: string): ResponderAction[] {
  return [
    { type: 'escalate', reason, source: 'button', ...(productId ? { productId } : {}) },
    { type: 'reply', text: textOf(input.config, 'escalated', input.language) },
  ];
}

/**
 * Products like `product`: the same category, closest in price first; without a category,
 * a search on its name.
 */
async function similarProducts(
  ctx: AppContext,
  workspaceId: string,
  product: { id: string; name: string; category: string | null; price: number },
  count: number,
) {
  const result = await searchProducts(
    ctx,
    workspaceId,
    product.category ? { category: product.category, limit: 50 } : { q: product.name, limit: 20 },
  );
  return result.items
    .filter((item) => item.id !== product.id)
    .sort((a, b) => Math.abs(a.price - product.price) - Math.abs(b.price - product.price))
    .slice(0, count);
}
