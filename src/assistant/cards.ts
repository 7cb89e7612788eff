import type { Product } from '../features/catalog/service.ts';
import type { Button, ResponderAction, ResponderConfig } from '../pipeline/simple-responder.ts';
import { say } from './config.ts';

/**
 * Product cards: a photo (when the product has a public image URL) or a text message, with the
 * name, price and availability, and inline buttons. Callback data stays far below Telegram's
 * 64-byte limit: a two-letter verb and the product's uuid (39 bytes).
 */

/** Callback data verbs of the card buttons. */
export const CARD_CALLBACK = /^(p|pm|pa|h):([0-9a-f-]{36})$/;

export interface CardOptions {
  config: ResponderConfig;
  language: string;
  /** The full card (description and attributes, no "details" button): answers "details" and SKU lookups. */
  full?: boolean;
}

// Telegram caps photo captions at 1024 characters; leave room for name, price and labels.
const CAPTION_LIMIT = 1024;
const SHORT_DESCRIPTION = 160;

/** One product as a `reply_photo` (public image) or `reply` (text card). */
export function productCard(product: Product, options: CardOptions): ResponderAction {
  const { config, language } = options;
  const lines = [
    product.name,
    `${formatPrice(product.price, product.currency, language)} · ${say(
      config,
      product.available ? 'inStock' : 'outOfStock',
      language,
    )}`,
    `${language === 'ru' ? 'Артикул' : 'SKU'}: ${product.sku}`,
  ];
  const description = product.description?.trim();
  if (description) {
    lines.push('', options.full ? description : shorten(description, SHORT_DESCRIPTION));
  }
  if (options.full) {
    const attributes = Object.entries(product.attributes)
      .filter(([, value]) => ['string', 'number', 'boolean'].includes(typeof value))
      .slice(0, 12)
      .map(([key, value]) => `${key}: ${String(value)}`);
    if (attributes.length > 0) lines.push('', ...attributes);
  }
  const buttons = cardButtons(product, options);
  const photo = product.imageUrl && /^https?:\/\//i.test(product.imageUrl) ? product.imageUrl : undefined;
  if (photo) {
    return { type: 'reply_photo', photo, caption: shorten(lines.join('\n'), CAPTION_LIMIT), buttons };
  }
  return { type: 'reply', text: lines.join('\n'), buttons };
}

/**
 * Up to `limit` cards after an intro line; when there are more results, the last card ends
 * with a "more results" hint. The hint rides on the card rather than in a message of its own:
 * Telegram allows about one message a second in a chat (after a short burst), so each extra
 * message delays the end of the answer by a second.
 */
export function productCards(
  items: Product[],
  options: CardOptions & { limit: number; more?: number | string; intro?: string },
): ResponderAction[] {
  const shown = items.slice(0, options.limit);
  const cards = shown.map((product) => productCard(product, options));
  const more = options.more ?? (items.length > shown.length ? items.length - shown.length : 0);
  const last = cards.at(-1);
  if (last && more !== 0 && more !== '') {
    const hint = say(options.config, 'moreProducts', options.language, { count: more });
    cards[cards.length - 1] = withHint(last, hint);
  }
  return [
    { type: 'reply', text: options.intro ?? say(options.config, 'productsFound', options.language) },
    ...cards,
  ];
}

/** A card with `hint` as its last paragraph (a photo caption keeps Telegram's limit). */
function withHint(card: ResponderAction, hint: string): ResponderAction {
  if (card.type === 'reply_photo') {
    const room = CAPTION_LIMIT - hint.length - 2;
    return { ...card, caption: `${shorten(card.caption ?? '', room)}\n\n${hint}` };
  }
  if (card.type === 'reply') return { ...card, text: `${card.text}\n\n${hint}` };
  return card;
}

function cardButtons(product: Product, options: CardOptions): Button[][] {
  const { config, language } = options;
  const button = (key: Parameters<typeof say>[1], verb: string): Button => ({
    text: say(config, key, language),
    callbackData: `${verb}:${product.id}`,
  });
  const first = options.full
    ? [button('similarProducts', 'pm')]
    : [button('productDetails', 'p'), button('similarProducts', 'pm')];
  return [first, [button('priceAlertButton', 'pa'), button('talkToPerson', 'h')]];
}

/** A price as the customer reads it: "129 900 ₽", "$1,299.50". */
export function formatPrice(amount: number, currency: string, language: string): string {
  const cents = Math.round(amount * 100) % 100 !== 0;
  try {
    return new Intl.NumberFormat(language === 'ru' ? 'ru-RU' : 'en-US', {
      style: 'currency',
      currency,
      minimumFractionDigits: cents ? 2 : 0,
      maximumFractionDigits: cents ? 2 : 0,
    }).format(amount);
  } catch {
    // A currency code Intl does not know: the number and the code.
    return `${amount.toFixed(cents ? 2 : 0)} ${currency}`;
  }
}

function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const sentence = cut.lastIndexOf('. ');
  return sentence > max / 2 ? cut.slice(0, sentence + 1) : `${cut.replace(/\s+\S*$/, '')}…`;
}
