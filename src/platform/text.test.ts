import { describe, expect, it } from 'vitest';
import { hasUnstorableText, toStorableJson, toStorableRecord, toStorableText, truncateText } from './text.ts';

const HIGH = '\uD83D';
const LOW = '\uDE00';
const EMOJI = `${HIGH}${LOW}`; // 😀

describe('toStorableText', () => {
  it('replaces NUL and lone surrogates with U+FFFD and keeps paired ones', () => {
    expect(toStorableText('a\u0000b')).toBe('a\uFFFDb');
    expect(toStorableText(`x${HIGH}`)).toBe('x\uFFFD');
    expect(toStorableText(`${LOW}x`)).toBe('\uFFFDx');
    expect(toStorableText(`${LOW}${HIGH}`)).toBe('\uFFFD\uFFFD');
    expect(toStorableText(`${EMOJI}\u0000${EMOJI}`)).toBe(`${EMOJI}\uFFFD${EMOJI}`);
  });

  it('returns the very same string when there is nothing to replace', () => {
    const text = `hello ${EMOJI} привет`;
    expect(toStorableText(text)).toBe(text);
    expect(hasUnstorableText(text)).toBe(false);
  });
});

describe('toStorableJson', () => {
  it('cleans strings at any depth, keys included, and leaves other values alone', () => {
    const value = {
      update_id: 1,
      message: { text: `bad\u0000${HIGH}`, entities: [{ type: 'bold', offset: 0 }], 'k\u0000': true },
      list: ['ok', LOW, 3, null, false],
    };
    expect(toStorableJson(value)).toEqual({
      update_id: 1,
      message: { text: 'bad\uFFFD\uFFFD', entities: [{ type: 'bold', offset: 0 }], 'k\uFFFD': true },
      list: ['ok', '\uFFFD', 3, null, false],
    });
    // The input is not modified.
    expect(value.message.text).toBe(`bad\u0000${HIGH}`);
  });

  it('returns the same object when it holds nothing unstorable', () => {
    const value = { update_id: 1, message: { text: `fine ${EMOJI}` } };
    expect(toStorableRecord(value)).toBe(value);
  });

  it('keeps a "__proto__" key as plain data', () => {
    const parsed: unknown = JSON.parse('{"__proto__": {"polluted": "x\\u0000"}}');
    const clean = toStorableJson(parsed);
    expect(Object.getPrototypeOf(clean)).toBe(Object.prototype);
    expect(JSON.stringify(clean)).toBe('{"__proto__":{"polluted":"x\uFFFD"}}');
  });
});

describe('truncateText', () => {
  it('never splits a surrogate pair', () => {
    const text = `ab${EMOJI}cd`;
    expect(truncateText(text, 3)).toBe('ab');
    expect(truncateText(text, 4)).toBe(`ab${EMOJI}`);
    expect(truncateText(text, 2)).toBe('ab');
    expect(truncateText(text, 10)).toBe(text);
    expect(hasUnstorableText(truncateText(EMOJI.repeat(100), 199))).toBe(false);
  });

  it('cuts plain text like slice', () => {
    expect(truncateText('abcdef', 3)).toBe('abc');
    expect(truncateText('abc', 0)).toBe('');
  });
});
