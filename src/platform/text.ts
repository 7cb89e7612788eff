/**
 * Text PostgreSQL cannot store, and cutting text without breaking characters.
 *
 * PostgreSQL refuses NUL (U+0000) in `text` (22021) and in `jsonb` (22P05, "unsupported
 * Unicode escape sequence"), and `jsonb` refuses UTF-16 surrogates without their pair (a
 * lone `\ud83d` is not a character). Customers' messages can carry both — Telegram passes
 * them through — and a refused row fails the whole multi-row statement it is part of. So
 * text from outside is made storable before it is written: each such code unit becomes
 * U+FFFD, the replacement character, the way a decoder marks bytes it could not read.
 */

/** NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what PostgreSQL refuses.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

export const REPLACEMENT_CHARACTER = '\uFFFD';

/** Whether PostgreSQL would refuse this string in a text or jsonb column. */
export function hasUnstorableText(text: string): boolean {
  return UNSTORABLE.test(text);
}

/** The string with NUL and lone surrogates replaced by U+FFFD; the same string when it has none. */
export function toStorableText(text: string): string {
  return UNSTORABLE.test(text) ? text.replace(UNSTORABLE_ALL, REPLACEMENT_CHARACTER) : text;
}

/**
 * A JSON value (as `JSON.parse` makes them) with every string — object keys included — made
 * storable by `toStorableText`. Cheap on the hot path: a value without such text is returned
 * as is after one walk over its strings; only a value that has some is copied.
 */
export function toStorableJson(value: unknown): unknown {
  return hasUnstorableJson(value) ? rebuild(value) : value;
}

/** `toStorableJson` for an object, keeping its type (a webhook payload, an event's data). */
export function toStorableRecord(record: Record<string, unknown>): Record<string, unknown> {
  return hasUnstorableJson(record) ? rebuildRecord(record) : record;
}

/**
 * At most `max` UTF-16 code units of `text`, cut on a character boundary: a surrogate pair
 * (an emoji, say) is never split in two. `.slice(0, max)` can leave half of one at the end,
 * which PostgreSQL then refuses in jsonb.
 */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = Math.max(0, max);
  const last = text.charCodeAt(end - 1);
  // A high surrogate at the cut belongs to the character after it: leave both out.
  const cut = last >= 0xd800 && last <= 0xdbff ? end - 1 : end;
  return text.slice(0, cut);
}

// ─── Helpers ─────────────────────────────────────────────────────────────────

function hasUnstorableJson(value: unknown): boolean {
  if (typeof value === 'string') return UNSTORABLE.test(value);
  if (Array.isArray(value)) return value.some(hasUnstorableJson);
  if (isRecord(value)) {
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      if (UNSTORABLE.test(key) || hasUnstorableJson(value[key])) return true;
    }
  }
  return false;
}

function rebuild(value: unknown): unknown {
  if (typeof value === 'string') return toStorableText(value);
  if (Array.isArray(value)) return value.map(rebuild);
  if (isRecord(value)) return rebuildRecord(value);
  return value;
}

function rebuildRecord(record: Record<string, unknown>): Record<string, unknown> {
  // fromEntries defines own properties: a "__proto__" key stays data and never a prototype.
  // Two keys that become equal after replacement keep the later value, as JSON.parse would.
  return Object.fromEntries(
    Object.entries(record).map(([key, item]) => [toStorableText(key), rebuild(item)]),
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
