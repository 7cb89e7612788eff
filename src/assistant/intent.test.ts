import { describe, expect, it } from 'vitest';
import { compilePattern } from './config.ts';
import { findSkus, isSameStem, plainPassage, quotePassage, readIntent, readPriceRange } from './intent.ts';

const SKU = compilePattern('[A-ZА-Я]{2,5}(-[A-ZА-Я]{2,5})?-\\d{2,6}');

describe('readPriceRange', () => {
  it.each([
    ['what sofas under 150000?', { priceMax: 150000 }],
    ['диваны до 150 000 ₽', { priceMax: 150000 }],
    ['стол дешевле 20000', { priceMax: 20000 }],
    ['something below 1,299.50 dollars', { priceMax: 1299.5 }],
    ['chairs from 10000 to 30000', { priceMin: 10000, priceMax: 30000 }],
    ['кресло от 20 тыс до 40 тыс', { priceMin: 20000, priceMax: 40000 }],
    ['between 5k and 9k', { priceMin: 5000, priceMax: 9000 }],
    ['beds over 50000', { priceMin: 50000 }],
    ['диван дороже 100000 руб', { priceMin: 100000 }],
  ])('reads %s', (text, expected) => {
    const { rest: _, ...range } = readPriceRange(text);
    expect(range).toEqual(expected);
  });

  it.each(['delivery within 3 days', 'доставка до 3 дней', 'до 2 этажа подъём', 'SOFA-001 up to 5 seats'])(
    'finds no price in %s',
    (text) => {
      const { rest: _, ...range } = readPriceRange(text);
      expect(range).toEqual({});
    },
  );
});

describe('findSkus', () => {
  it('finds article numbers in any case, Latin and Cyrillic', () => {
    if (!SKU) throw new Error('pattern');
    expect(findSkus('do you have sofa-001 or ДИВ-12?', SKU)).toEqual(['SOFA-001', 'ДИВ-12']);
  });

  it('repairs the usual OCR misreadings', () => {
    if (!SKU) throw new Error('pattern');
    expect(findSkus('PRICE 129900\nS0FA-0O1\n', SKU, { ocr: true })).toEqual(['SOFA-001']);
    expect(findSkus('S0FA-0O1', SKU)).toEqual([]);
  });
});

describe('readIntent', () => {
  it('tells shopping from policy questions', () => {
    const shopping = readIntent('what sofas under 150000?', SKU);
    expect(shopping).toMatchObject({ words: ['sofas'], priceMax: 150000, hasPrice: true, isPolicy: false });
    const policy = readIntent('How much does delivery cost?', SKU);
    expect(policy).toMatchObject({ hasPrice: false, isPolicy: true, words: ['delivery'] });
    expect(readIntent('Есть ли у вас кожаные диваны?', SKU)).toMatchObject({
      isShopping: true,
      words: ['кожаные', 'диваны'],
    });
  });
});

describe('isSameStem', () => {
  it('matches word forms in both languages and nothing wider', () => {
    expect(isSameStem('sofa', 'sofas')).toBe(true);
    expect(isSameStem('диваны', 'диван')).toBe(true);
    expect(isSameStem('кресла', 'кресло')).toBe(true);
    expect(isSameStem('bed', 'beds')).toBe(true);
    expect(isSameStem('bed', 'bedroom')).toBe(false);
    expect(isSameStem('chair', 'armchairs')).toBe(false);
  });
});

describe('quotePassage', () => {
  it('keeps whole sentences around the best match', () => {
    const text = `${'Filler sentence about nothing. '.repeat(20)}Delivery within the city costs 1,500 ₽. ${'More filler here. '.repeat(20)}`;
    const quoted = quotePassage(text, 'how much is delivery', 120);
    expect(quoted).toContain('Delivery within the city costs 1,500 ₽.');
    expect(quoted.length).toBeLessThanOrEqual(130);
  });
});

describe('plainPassage', () => {
  it('turns Markdown into chat text: the last heading of a run as a label, no emphasis or link syntax', () => {
    const text =
      '# FAQ\n\n## Delivery\nWe deliver **within 2–3 days**, see [terms](https://shop.example/terms).\n- `Free` over 50,000 ₽';
    expect(plainPassage(text)).toBe(
      'Delivery:\nWe deliver within 2–3 days, see terms (https://shop.example/terms).\n• Free over 50,000 ₽',
    );
    expect(quotePassage('## Returns?\nWithin 14 days.', 'returns')).toBe('Returns? Within 14 days.');
  });
});
