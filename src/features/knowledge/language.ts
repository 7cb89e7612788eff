import type { KnowledgeLanguage } from './schema.ts';

const CYRILLIC = /\p{Script=Cyrillic}/u;
const LATIN = /[A-Za-z]/;
const LETTER = /\p{L}/u;

/** Letters read to decide; a document's first pages say enough. */
const SAMPLE_CHARS = 20_000;

/**
 * The text-search configuration for a document, from the share of its letters that are
 * Cyrillic. `russian` wins from a fifth on: PostgreSQL's `russian` configuration stems ASCII
 * words with the English stemmer and Cyrillic ones with the Russian, so it also serves the
 * mixed English/Russian documents common in Russian-speaking shops. Mostly Latin → `english`;
 * anything else (other scripts, no letters) → `simple` (exact words, no stemming).
 */
export function detectLanguage(text: string): KnowledgeLanguage {
  let letters = 0;
  let cyrillic = 0;
  let latin = 0;
  for (const char of text.slice(0, SAMPLE_CHARS)) {
    if (!LETTER.test(char)) continue;
    letters += 1;
    if (CYRILLIC.test(char)) cyrillic += 1;
    else if (LATIN.test(char)) latin += 1;
  }
  if (letters === 0) return 'simple';
  if (cyrillic / letters >= 0.2) return 'russian';
  if (latin / letters >= 0.6) return 'english';
  return 'simple';
}

/**
 * The configuration to parse a short query with: any Cyrillic letter → `russian` (which also
 * stems the Latin words in it), Latin letters → `english`, else `simple`.
 */
export function detectQueryLanguage(query: string): KnowledgeLanguage {
  if (CYRILLIC.test(query)) return 'russian';
  if (LATIN.test(query)) return 'english';
  return 'simple';
}

/**
 * Lower-case, punctuation and extra spaces removed, `ё` folded to `е`: the form questions are
 * compared in by trigram similarity.
 */
export function normalizeQuestion(text: string): string {
  return text
    .toLowerCase()
    .replaceAll('ё', 'е')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}
