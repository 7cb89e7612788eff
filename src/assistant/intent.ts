/**
 * Reading a customer's message without an LLM: article numbers (SKUs), price phrases
 * ("under 150000", "до 150 000", "from 20k to 40k"), the words that name products, and whether
 * the message reads like shopping or like a question about the shop's policies. Pure functions;
 * the offline responder decides what to do with them.
 */

export interface PriceRange {
  priceMin?: number;
  priceMax?: number;
}

export interface MessageIntent extends PriceRange {
  /** Article numbers found, upper-cased, in order of appearance. */
  skus: string[];
  /** The words left once price phrases, SKUs and filler words are removed (lower case). */
  words: string[];
  /** Words that ask to see or buy something ("show", "looking for", "покажите", "есть ли"). */
  isShopping: boolean;
  /** Words about delivery, returns, warranty, payment…: a question for the knowledge base. */
  isPolicy: boolean;
  hasPrice: boolean;
}

/** Reads `text` (see the module comment); `skuPattern` is the bot's configured pattern. */
export function readIntent(text: string, skuPattern: RegExp | undefined): MessageIntent {
  const skus = skuPattern ? findSkus(text, skuPattern) : [];
  let rest = text;
  for (const sku of skus) rest = rest.replace(new RegExp(escapeRegExp(sku), 'giu'), ' ');
  const price = readPriceRange(rest);
  const all = wordsOf(price.rest);
  return {
    skus,
    ...(price.priceMin !== undefined ? { priceMin: price.priceMin } : {}),
    ...(price.priceMax !== undefined ? { priceMax: price.priceMax } : {}),
    hasPrice: price.priceMin !== undefined || price.priceMax !== undefined,
    words: all.filter((word) => !STOP_WORDS.has(word) && !SHOPPING_WORDS.has(word) && !/^\d+$/.test(word)),
    isShopping: all.some((word) => SHOPPING_WORDS.has(word)) || SHOPPING_PHRASE.test(text),
    isPolicy: all.some((word) => POLICY_STEMS.some((stem) => word.startsWith(stem))),
  };
}

// ─── SKUs ────────────────────────────────────────────────────────────────────

/**
 * Article numbers in `text`: matches of the pattern on the text as written and upper-cased,
 * plus, for OCR output, on a variant with the usual misreadings repaired in digit groups
 * (O→0, I/l→1, S→5, B→8) and letter groups (0→O, 1→I, 5→S, 8→B).
 */
export function findSkus(text: string, pattern: RegExp, options: { ocr?: boolean } = {}): string[] {
  const variants = [text.toUpperCase()];
  if (options.ocr) variants.push(repairOcr(variants[0] ?? ''));
  const found: string[] = [];
  for (const variant of variants) {
    const regex = new RegExp(
      pattern.source,
      pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`,
    );
    for (const match of variant.matchAll(regex)) {
      const sku = match[0].toUpperCase().replace(/[–—]/g, '-');
      if (sku && !found.includes(sku)) found.push(sku);
    }
  }
  return found;
}

const TO_DIGIT: Record<string, string> = {
  O: '0',
  Q: '0',
  D: '0',
  I: '1',
  L: '1',
  '|': '1',
  S: '5',
  B: '8',
  Z: '2',
};
const TO_LETTER: Record<string, string> = { '0': 'O', '1': 'I', '5': 'S', '8': 'B', '2': 'Z' };

/** Repairs code-like tokens (`LETTERS-DIGITS`): letters inside the trailing digit group become digits and vice versa. */
function repairOcr(text: string): string {
  return text.replace(/[A-Z0-9А-Я|]{2,6}(?:[-–—][A-Z0-9А-Я]{2,6})*[-–—][A-Z0-9|]{2,7}/g, (token) => {
    const parts = token.split(/[-–—]/);
    const last = parts.pop() ?? '';
    const head = parts.map((part) => [...part].map((char) => TO_LETTER[char] ?? char).join(''));
    const tail = [...last].map((char) => TO_DIGIT[char] ?? char).join('');
    return [...head, tail].join('-');
  });
}

// ─── Prices ──────────────────────────────────────────────────────────────────

// A number as customers write it: 150000, 150 000, 150,000, 1 299.90, 150k, 150 тыс.
const NUMBER = String.raw`(\d{1,3}(?:[ \u00a0\u202f,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)\s*(k|к|тыс\.?|тысяч[аи]?|thousand)?`;
const CURRENCY = String.raw`(?:\s*(?:₽|руб\.?|рублей|рубля|рубль|р\.|rub|rur|\$|usd|dollars?|€|eur|euros?|£|gbp))?`;
// Numbers of days, hours or pieces are not prices ("delivery within 3 days", "до 3 дней").
const NOT_PRICE = String.raw`(?!\s*(?:%|дн|день|дней|час|недел|мес|мин|лет|год|шт|см|мм|м\b|кг|мест|seat|day|hour|week|month|year|min|cm|mm|kg|piece|pcs|person|people|floor|этаж))`;
const BEFORE = String.raw`(?<![\p{L}\p{N}-])`;
const AMOUNT = `${NUMBER}${CURRENCY}${NOT_PRICE}`;

const MAX_WORDS = String.raw`under|below|less\s+than|cheaper\s+than|up\s+to|no\s+more\s+than|not\s+more\s+than|at\s+most|max(?:imum)?|within|до|дешевле|меньше|не\s+дороже|не\s+более|не\s+больше|в\s+пределах|максимум|ниже`;
const MIN_WORDS = String.raw`over|above|more\s+than|at\s+least|min(?:imum)?|дороже|больше|свыше|не\s+меньше|не\s+дешевле|минимум|выше`;

const RANGE = new RegExp(
  `${BEFORE}(?:from|between|от)\\s+${AMOUNT}\\s*(?:to|and|-|–|—|до)\\s*${AMOUNT}`,
  'giu',
);
const MAX = new RegExp(`${BEFORE}(?:${MAX_WORDS})\\s+${AMOUNT}`, 'giu');
const MIN = new RegExp(`${BEFORE}(?:${MIN_WORDS}|from|от)\\s+${AMOUNT}`, 'giu');

/** Price limits named in `text`, and the text with those phrases removed. */
export function readPriceRange(text: string): PriceRange & { rest: string } {
  const range: PriceRange = {};
  let rest = text;
  rest = rest.replace(
    RANGE,
    (whole, a: string, ka: string | undefined, b: string, kb: string | undefined) => {
      const low = amountOf(a, ka);
      const high = amountOf(b, kb);
      if (low === undefined || high === undefined) return whole;
      range.priceMin = Math.min(low, high);
      range.priceMax = Math.max(low, high);
      return ' ';
    },
  );
  rest = rest.replace(MAX, (whole, a: string, ka: string | undefined) => {
    const value = amountOf(a, ka);
    if (value === undefined) return whole;
    range.priceMax = value;
    return ' ';
  });
  rest = rest.replace(MIN, (whole, a: string, ka: string | undefined) => {
    const value = amountOf(a, ka);
    if (value === undefined) return whole;
    range.priceMin = value;
    return ' ';
  });
  return { ...range, rest };
}

function amountOf(digits: string, multiplier: string | undefined): number | undefined {
  // "150 000" and "150,000" group thousands; "99,90" and "99.90" carry cents.
  const grouped = /^\d{1,3}(?:[ \u00a0\u202f,]\d{3})+/.test(digits);
  const normalized = grouped
    ? digits.replace(/[ \u00a0\u202f,](?=\d{3})/g, '').replace(',', '.')
    : digits.replace(',', '.');
  const value = Number(normalized) * (multiplier ? 1000 : 1);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

// ─── Words ───────────────────────────────────────────────────────────────────

/** Lower-cased words (letters and digits, ё as е). */
export function wordsOf(text: string): string[] {
  return (
    text
      .toLowerCase()
      .replaceAll('ё', 'е')
      .match(/[\p{L}\p{N}]+/gu) ?? []
  ).filter(Boolean);
}

/**
 * Whether two words are forms of one another, cheaply and in both languages: equal, or one
 * extends the other's stem by at most three letters ("sofa"/"sofas", "диван"/"диваны",
 * "кресло"/"кресла").
 */
export function isSameStem(a: string, b: string): boolean {
  if (a === b) return true;
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  if (short.length < 3 || long.length - short.length > 3) return false;
  const stem =
    short.length >= 5 ? short.slice(0, short.length - 1) : short.slice(0, Math.max(3, short.length));
  return long.startsWith(stem) && (short.length >= 4 || long.length - short.length <= 1);
}

/**
 * Trims `text` to whole sentences around the ones that best match `query`, at most `maxChars`,
 * as chat text (see `plainPassage`).
 */
export function quotePassage(text: string, query: string, maxChars = 600): string {
  const clean = plainPassage(text).replace(/\s+/g, ' ').trim();
  if (clean.length <= maxChars) return clean;
  const sentences = clean.match(/[^.!?…]+(?:[.!?…]+|$)/g)?.map((sentence) => sentence.trim()) ?? [clean];
  const queryWords = wordsOf(query).filter((word) => !STOP_WORDS.has(word) && word.length > 2);
  const scores = sentences.map(
    (sentence) =>
      wordsOf(sentence).filter((word) => queryWords.some((queryWord) => isSameStem(word, queryWord))).length,
  );
  let best = 0;
  scores.forEach((score, index) => {
    if (score > (scores[best] ?? 0)) best = index;
  });
  let from = best;
  let to = best;
  let length = sentences[best]?.length ?? 0;
  // Grow the window one sentence at a time, preferring what follows (the answer usually does).
  for (;;) {
    const next = sentences[to + 1];
    const previous = sentences[from - 1];
    if (next !== undefined && length + next.length + 1 <= maxChars) {
      to++;
      length += next.length + 1;
    } else if (previous !== undefined && length + previous.length + 1 <= maxChars) {
      from--;
      length += previous.length + 1;
    } else break;
  }
  const quoted = sentences.slice(from, to + 1).join(' ');
  if (quoted.length <= maxChars)
    return `${from > 0 ? '… ' : ''}${quoted}${to < sentences.length - 1 ? ' …' : ''}`;
  return `${quoted.slice(0, maxChars - 1).replace(/\s+\S*$/, '')}…`;
}

/**
 * A Markdown passage as chat text: Telegram and WhatsApp would show the marks as they are. A
 * run of headings ("# FAQ", "## Delivery") becomes a label of its last, most specific one
 * ("Delivery:"; the document's title is quoted apart); bold, code and link syntax go, list
 * markers become bullets.
 */
export function plainPassage(text: string): string {
  return text
    .replace(/^#{1,6}[ \t]+.*(?:\s*\n#{1,6}[ \t]+.*)*\n?/gm, (run) => {
      const last = run.trim().split('\n').at(-1) ?? '';
      const title = last
        .replace(/^#{1,6}[ \t]+/, '')
        .replace(/[ \t]+#+[ \t]*$/, '')
        .trim();
      return `${/[.:!?…]$/.test(title) ? title : `${title}:`}\n`;
    })
    .replace(/\[([^\]\n]+)\]\((https?:\/\/[^)\s]+)\)/g, '$1 ($2)')
    .replace(/(\*\*|__)(?=\S)(.+?)(?<=\S)\1/g, '$2')
    .replace(/`([^`\n]+)`/g, '$1')
    .replace(/^[ \t]*[-*+][ \t]+/gm, '• ');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const SHOPPING_WORDS = new Set([
  'show',
  'looking',
  'buy',
  'want',
  'need',
  'find',
  'recommend',
  'sell',
  'offer',
  'options',
  'cheap',
  'cheapest',
  'покажи',
  'покажите',
  'ищу',
  'ищем',
  'хочу',
  'хотим',
  'купить',
  'куплю',
  'нужен',
  'нужна',
  'нужно',
  'нужны',
  'подберите',
  'подбери',
  'посоветуйте',
  'посоветуй',
  'продаете',
  'дешевый',
  'дешевые',
  'недорогой',
  'недорогие',
  'недорого',
  'какие',
]);

const SHOPPING_PHRASE =
  /(?<!\p{L})(?:do you have|have you got|got any|what .{1,40} (?:do you have|are there)|есть ли|у вас есть)(?!\p{L})/iu;

const POLICY_STEMS = [
  'deliver',
  'shipping',
  'ship',
  'return',
  'refund',
  'warrant',
  'guarant',
  'pay',
  'installment',
  'assembl',
  'courier',
  'доставк',
  'доставл',
  'достав',
  'возврат',
  'вернуть',
  'гарант',
  'оплат',
  'плат',
  'рассрочк',
  'сборк',
  'собер',
  'курьер',
];

const STOP_WORDS = new Set([
  // English
  'a',
  'an',
  'the',
  'is',
  'are',
  'was',
  'be',
  'do',
  'does',
  'you',
  'your',
  'i',
  'me',
  'my',
  'we',
  'our',
  'it',
  'this',
  'that',
  'these',
  'those',
  'what',
  'which',
  'who',
  'how',
  'much',
  'many',
  'any',
  'some',
  'have',
  'has',
  'got',
  'there',
  'please',
  'for',
  'of',
  'in',
  'on',
  'at',
  'to',
  'with',
  'and',
  'or',
  'can',
  'could',
  'would',
  'like',
  'price',
  'prices',
  'cost',
  'costs',
  'hi',
  'hello',
  'hey',
  'thanks',
  'thank',
  'about',
  'from',
  'something',
  'anything',
  'one',
  'ones',
  'tell',
  // Russian
  'а',
  'и',
  'в',
  'во',
  'на',
  'с',
  'со',
  'по',
  'для',
  'до',
  'от',
  'из',
  'у',
  'к',
  'о',
  'об',
  'за',
  'не',
  'ли',
  'же',
  'бы',
  'что',
  'какой',
  'какая',
  'какое',
  'вас',
  'вы',
  'мне',
  'меня',
  'я',
  'мы',
  'нам',
  'есть',
  'пожалуйста',
  'сколько',
  'стоит',
  'стоят',
  'цена',
  'цены',
  'почем',
  'подскажите',
  'скажите',
  'можно',
  'какой',
  'это',
  'этот',
  'эта',
  'здравствуйте',
  'привет',
  'спасибо',
  'что-нибудь',
  'нибудь',
  'чтобы',
  'или',
]);
