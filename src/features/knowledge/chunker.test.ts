import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Chunk, chunkText } from './chunker.ts';

const SEED = 20261122;

/** Text shaped like documents: headings, paragraphs, sentences, lists, long words, Cyrillic. */
const word = fc.oneof(
  fc.constantFrom('delivery', 'sofa', 'returns', 'доставка', 'гарантия', 'стоит', 'a', 'is', '1500', '—'),
  fc.string({ minLength: 1, maxLength: 12, unit: fc.constantFrom('a', 'b', 'я', 'ж', '1', 'x') }),
  // Now and then a "word" longer than a chunk (a URL, a base64 blob).
  fc.string({ minLength: 200, maxLength: 1200, unit: fc.constantFrom('q', 'w', '/') }),
);
const sentence = fc
  .tuple(fc.array(word, { minLength: 1, maxLength: 30 }), fc.constantFrom('.', '!', '?', ';', ''))
  .map(([words, end]) => `${words.join(' ')}${end}`);
const paragraph = fc.array(sentence, { minLength: 1, maxLength: 12 }).map((sentences) => sentences.join(' '));
const block = fc.oneof(
  { weight: 6, arbitrary: paragraph },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.integer({ min: 1, max: 3 }), sentence)
      .map(([level, text]) => `${'#'.repeat(level)} ${text}`),
  },
  {
    weight: 1,
    arbitrary: fc
      .array(sentence, { minLength: 1, maxLength: 6 })
      .map((items) => items.map((item) => `- ${item}`).join('\n')),
  },
);
const documentText = fc
  .tuple(fc.array(block, { minLength: 1, maxLength: 25 }), fc.constantFrom('\n\n', '\n', '\n\n\n  \n'))
  .map(([blocks, separator]) => blocks.join(separator));
const sizes = fc
  .tuple(fc.integer({ min: 80, max: 1500 }), fc.integer({ min: 0, max: 400 }))
  .map(([maxChars, overlapChars]) => ({ maxChars, overlapChars }));

function isHeadingStart(text: string, position: number) {
  return /^#{1,6}[ \t]+\S/.test(text.slice(position));
}

function checkInvariants(text: string, chunks: Chunk[], maxChars: number, overlapChars: number) {
  const effectiveOverlap = Math.min(overlapChars, Math.floor(maxChars / 4));
  // Every non-blank character is inside some chunk's span.
  const covered = new Uint8Array(text.length);
  for (const chunk of chunks) covered.fill(1, chunk.start, chunk.end);
  for (let index = 0; index < text.length; index++) {
    if (!covered[index] && /\S/.test(text[index] ?? '')) {
      throw new Error(`character ${index} (${JSON.stringify(text.slice(index, index + 20))}) is in no chunk`);
    }
  }
  for (const [index, chunk] of chunks.entries()) {
    // No chunk is longer than the limit, heading prefix included, and none is blank.
    expect(chunk.text.length).toBeLessThanOrEqual(maxChars);
    expect(chunk.text.trim()).not.toBe('');
    // The span's words are in the text (after the repeated heading, if any).
    expect(chunk.text.endsWith(text.slice(chunk.start, chunk.end).trim())).toBe(true);
    const previous = chunks[index - 1];
    if (!previous) continue;
    expect(chunk.start).toBeGreaterThan(previous.start);
    expect(chunk.end).toBeGreaterThan(previous.end);
    if (chunk.start < previous.end) {
      // Inside a section: consecutive chunks overlap, by at most the overlap.
      expect(previous.end - chunk.start).toBeLessThanOrEqual(Math.max(effectiveOverlap, 1));
    } else if (effectiveOverlap === 0) {
      // No overlap asked: consecutive chunks touch, with at most blanks between them.
      expect(text.slice(previous.end, chunk.start).trim()).toBe('');
    } else {
      // Across sections: the next one opens with its heading, nothing in between but blanks.
      expect(isHeadingStart(text, chunk.start)).toBe(true);
      expect(text.slice(previous.end, chunk.start).trim()).toBe('');
    }
  }
}

describe('chunkText', () => {
  it('covers every non-blank character, keeps chunks within the limit, and overlaps within sections (property)', () => {
    fc.assert(
      fc.property(documentText, sizes, (text, { maxChars, overlapChars }) => {
        checkInvariants(text, chunkText(text, { maxChars, overlapChars }), maxChars, overlapChars);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('overlaps consecutive chunks of a long section by some text when the overlap is on', () => {
    fc.assert(
      fc.property(fc.array(sentence, { minLength: 40, maxLength: 80 }), (sentences) => {
        const text = sentences.join(' ');
        const chunks = chunkText(text, { maxChars: 400, overlapChars: 100 });
        for (let index = 1; index < chunks.length; index++) {
          const previous = chunks[index - 1];
          const chunk = chunks[index];
          if (!previous || !chunk) continue;
          expect(chunk.start).toBeLessThan(previous.end);
        }
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  it('starts every section with its heading and repeats the heading on the section’s later chunks', () => {
    const delivery = Array.from({ length: 30 }, (_, i) => `Delivery fact number ${i} is here.`).join(' ');
    const text = `# Shop FAQ\n\n## Delivery\n\n${delivery}\n\n## Returns\n\nReturns are accepted within 14 days.`;
    const chunks = chunkText(text, { maxChars: 300, overlapChars: 60 });
    expect(chunks[0]?.text.startsWith('# Shop FAQ\n\n## Delivery')).toBe(true);
    const deliveryChunks = chunks.filter((chunk) => chunk.text.includes('Delivery fact'));
    expect(deliveryChunks.length).toBeGreaterThan(2);
    for (const chunk of deliveryChunks.slice(1))
      expect(chunk.text.startsWith('# Shop FAQ\n## Delivery\n\n')).toBe(true);
    const last = chunks.at(-1);
    expect(last?.text).toBe('## Returns\n\nReturns are accepted within 14 days.');
    // A heading never ends a chunk away from its section.
    for (const chunk of chunks) expect(chunk.text.trimEnd()).not.toMatch(/\n#{1,6} [^\n]*$/);
  });

  it('prefers paragraph, then sentence boundaries for chunk ends', () => {
    const paragraph = (n: number) => `Paragraph ${n} first sentence. Second sentence of paragraph ${n}.`;
    const text = Array.from({ length: 20 }, (_, i) => paragraph(i)).join('\n\n');
    const chunks = chunkText(text, { maxChars: 250, overlapChars: 40 });
    for (const chunk of chunks.slice(0, -1)) expect(chunk.text).toMatch(/[.]$/);
  });

  it('returns nothing for blank text and one chunk for short text', () => {
    expect(chunkText('  \n\n ')).toEqual([]);
    expect(chunkText('Short answer.')).toEqual([{ start: 0, end: 13, text: 'Short answer.' }]);
  });
});
