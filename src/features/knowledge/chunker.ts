/**
 * Splits extracted text into overlapping passages for indexing.
 *
 * - Sections start at Markdown headings (`#`…`######`, which the HTML extractor also emits);
 *   a section is chunked on its own, so a heading always opens a chunk and never ends one, and
 *   the continuation chunks of a long section repeat its heading first ("keep headings with
 *   their section").
 * - Inside a section a chunk ends at the strongest boundary that still fills it at least
 *   half: paragraph, then line, then sentence, then word; a hard cut only inside a word longer
 *   than a chunk.
 * - Consecutive chunks of a section overlap by up to `overlapChars`, starting at a sentence
 *   (else word) boundary, so a fact cut at a chunk's end is whole in the next one.
 *
 * Every non-blank character of the text lies in some chunk's [start, end) span, and every
 * chunk's `text` (heading prefix included) is at most `maxChars` long.
 */
export interface ChunkOptions {
  /** Longest chunk text, heading prefix included (default 800). */
  maxChars?: number;
  /** Longest overlap between consecutive chunks of a section (default 120; at most maxChars/4). */
  overlapChars?: number;
}

export interface Chunk {
  /** Span of the source text the chunk covers. */
  start: number;
  end: number;
  /** The span trimmed, after its section's heading when the chunk does not start the section. */
  text: string;
}

export const DEFAULT_CHUNK_CHARS = 800;
export const DEFAULT_OVERLAP_CHARS = 120;

/** Boundary strengths: a chunk prefers to end at the strongest one. */
const Strength = { Word: 1, Sentence: 2, Line: 3, Paragraph: 4 } as const;
type Strength = (typeof Strength)[keyof typeof Strength];

const HEADING_LINE = /^#{1,6}[ \t]+\S.*$/gm;

export function chunkText(text: string, options: ChunkOptions = {}): Chunk[] {
  const maxChars = Math.max(options.maxChars ?? DEFAULT_CHUNK_CHARS, 40);
  const overlapChars = Math.max(
    0,
    Math.min(options.overlapChars ?? DEFAULT_OVERLAP_CHARS, Math.floor(maxChars / 4)),
  );
  const boundaries = boundariesOf(text);
  const chunks: Chunk[] = [];
  for (const section of sectionsOf(text)) {
    chunkSection(text, section, boundaries, maxChars, overlapChars, chunks);
  }
  return chunks;
}

interface Section {
  start: number;
  /** End of the section's last non-blank character. */
  end: number;
  /** The heading lines the section opens with ('' when none), as a continuation prefix. */
  heading: string;
}

function sectionsOf(text: string): Section[] {
  const headings = [...text.matchAll(HEADING_LINE)].map((match) => ({
    start: match.index,
    end: match.index + match[0].length,
  }));
  const starts: number[] = [0];
  let bodySince = 0;
  for (const heading of headings) {
    // A run of headings with nothing but blank space between them opens one section.
    if (text.slice(bodySince, heading.start).trim() !== '' && heading.start > (starts.at(-1) ?? 0)) {
      starts.push(heading.start);
    }
    bodySince = heading.end;
  }
  const sections: Section[] = [];
  for (const [index, start] of starts.entries()) {
    const next = starts[index + 1] ?? text.length;
    const slice = text.slice(start, next);
    const end = start + slice.trimEnd().length;
    if (end <= start || slice.trim() === '') continue;
    const headingLines: string[] = [];
    for (const line of slice.split('\n')) {
      if (line.trim() === '') continue;
      if (/^#{1,6}[ \t]+\S/.test(line)) headingLines.push(line.trim());
      else break;
    }
    sections.push({ start, end, heading: headingLines.join('\n') });
  }
  return sections;
}

/** Positions right after a boundary, with its strength (the strongest wins). */
function boundariesOf(text: string): Map<number, Strength> {
  const found = new Map<number, Strength>();
  const mark = (position: number, strength: Strength) => {
    if ((found.get(position) ?? 0) < strength) found.set(position, strength);
  };
  for (const match of text.matchAll(/\n[ \t]*\n\s*/g))
    mark(match.index + match[0].length, Strength.Paragraph);
  for (const match of text.matchAll(/\n\s*/g)) mark(match.index + match[0].length, Strength.Line);
  for (const match of text.matchAll(/[.!?…;:]["'»”)\]]*\s+/g))
    mark(match.index + match[0].length, Strength.Sentence);
  for (const match of text.matchAll(/\s+/g)) mark(match.index + match[0].length, Strength.Word);
  return found;
}

function chunkSection(
  text: string,
  section: Section,
  boundaries: Map<number, Strength>,
  maxChars: number,
  overlapChars: number,
  out: Chunk[],
) {
  const prefix = section.heading.slice(0, Math.floor(maxChars / 4));
  let start = section.start;
  let previousEnd = section.start;
  let first = true;
  for (;;) {
    const withPrefix = !first && prefix !== '';
    const budget = maxChars - (withPrefix ? prefix.length + 2 : 0);
    let end = pickEnd(start, budget, section.end, boundaries);
    if (end <= previousEnd) end = Math.min(section.end, start + budget);
    const body = text.slice(start, end).trim();
    out.push({ start, end, text: withPrefix ? `${prefix}\n\n${body}` : body });
    if (end >= section.end) return;
    const next = pickOverlapStart(start, end, overlapChars, boundaries);
    previousEnd = end;
    start = next;
    first = false;
  }
}

/** The best end for a chunk from `start` with `budget` characters (see the module comment). */
function pickEnd(
  start: number,
  budget: number,
  sectionEnd: number,
  boundaries: Map<number, Strength>,
): number {
  const limit = start + budget;
  if (sectionEnd <= limit) return sectionEnd;
  const minFill = start + Math.floor(budget / 2);
  let best = -1;
  let bestStrength: number = 0;
  let anyBest = -1;
  for (let position = limit; position > start; position--) {
    const strength = boundaries.get(position);
    if (strength === undefined) continue;
    if (anyBest < 0) anyBest = position;
    if (position < minFill) break;
    if (strength > bestStrength) {
      best = position;
      bestStrength = strength;
      if (strength === Strength.Paragraph) break;
    }
  }
  if (best > start) return best;
  if (anyBest > start) return anyBest;
  return limit;
}

/** Where the next chunk starts: the earliest sentence (else word) boundary within the overlap. */
function pickOverlapStart(
  start: number,
  end: number,
  overlapChars: number,
  boundaries: Map<number, Strength>,
): number {
  if (overlapChars === 0) return end;
  const from = Math.max(start + 1, end - overlapChars);
  let word = -1;
  for (let position = from; position < end; position++) {
    const strength = boundaries.get(position);
    if (strength === undefined) continue;
    if (strength >= Strength.Sentence) return position;
    if (word < 0) word = position;
  }
  return word > 0 ? word : from;
}
