import mammoth from 'mammoth';
import { HTMLElement, type Node, parse as parseHtml, TextNode } from 'node-html-parser';
import { PDFParse } from 'pdf-parse';
import { AppError } from '../../platform/errors.ts';

/**
 * Text extraction from the formats the knowledge base accepts. Everything comes out as plain
 * text with Markdown-style `#` headings (HTML headings are converted), which is what the
 * chunker keeps sections by.
 */

export const DOCUMENT_FORMATS = ['text', 'markdown', 'html', 'pdf', 'docx'] as const;
export type DocumentFormat = (typeof DOCUMENT_FORMATS)[number];

const MIME_BY_FORMAT: Record<DocumentFormat, string> = {
  text: 'text/plain',
  markdown: 'text/markdown',
  html: 'text/html',
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

const FORMAT_BY_MIME: Record<string, DocumentFormat> = {
  'text/plain': 'text',
  'text/markdown': 'markdown',
  'text/x-markdown': 'markdown',
  'text/html': 'html',
  'application/xhtml+xml': 'html',
  'application/pdf': 'pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
};

const FORMAT_BY_EXTENSION: Record<string, DocumentFormat> = {
  txt: 'text',
  text: 'text',
  md: 'markdown',
  markdown: 'markdown',
  html: 'html',
  htm: 'html',
  pdf: 'pdf',
  docx: 'docx',
};

export function mimeTypeOf(format: DocumentFormat): string {
  return MIME_BY_FORMAT[format];
}

/**
 * The format of some bytes: magic numbers first (a PDF or a DOCX is recognised whatever it
 * is labelled), then the declared content type, then the file name's extension. Undefined
 * when none says anything this module can read.
 */
export function detectFormat(
  bytes: Uint8Array,
  declared: { contentType?: string | undefined; fileName?: string | undefined },
): DocumentFormat | undefined {
  const head = Buffer.from(bytes.subarray(0, 8)).toString('latin1');
  if (head.startsWith('%PDF-')) return 'pdf';
  const mime = declared.contentType?.split(';')[0]?.trim().toLowerCase();
  if (head.startsWith('PK\u0003\u0004')) {
    // A zip: only DOCX is supported among zip-based formats.
    if (mime === MIME_BY_FORMAT.docx || declared.fileName?.toLowerCase().endsWith('.docx')) return 'docx';
    return Buffer.from(bytes).includes('word/document.xml') ? 'docx' : undefined;
  }
  const byMime = mime ? FORMAT_BY_MIME[mime] : undefined;
  if (byMime && byMime !== 'pdf' && byMime !== 'docx') return byMime;
  const extension = declared.fileName?.toLowerCase().split('.').pop();
  const byExtension = extension ? FORMAT_BY_EXTENSION[extension] : undefined;
  if (byExtension && byExtension !== 'pdf' && byExtension !== 'docx') return byExtension;
  // Unlabelled (or labelled by `curl --data-binary`'s default) text: UTF-8 without NUL bytes.
  if (
    mime === undefined ||
    mime === 'application/octet-stream' ||
    mime === 'application/x-www-form-urlencoded'
  ) {
    if (!bytes.includes(0) && isUtf8(bytes)) return looksLikeHtml(bytes) ? 'html' : 'text';
  }
  return undefined;
}

/** Plain text of a document; AppError BAD_REQUEST when the file cannot be read. */
export async function extractText(bytes: Uint8Array, format: DocumentFormat): Promise<string> {
  try {
    switch (format) {
      case 'text':
      case 'markdown':
        return normalizeText(decodeUtf8(bytes));
      case 'html':
        return normalizeText(htmlToText(decodeUtf8(bytes)));
      case 'pdf':
        return normalizeText(await pdfToText(bytes));
      case 'docx':
        return normalizeText(await docxToText(bytes));
    }
  } catch (cause) {
    if (cause instanceof AppError) throw cause;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new AppError('BAD_REQUEST', { message: `Could not read the ${format} file: ${reason}`, cause });
  }
}

function decodeUtf8(bytes: Uint8Array): string {
  if (!isUtf8(bytes)) {
    throw new AppError('BAD_REQUEST', { message: 'The text is not valid UTF-8' });
  }
  return Buffer.from(bytes).toString('utf8');
}

function isUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function looksLikeHtml(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 512)).toString('utf8').trimStart().toLowerCase();
  return head.startsWith('<!doctype html') || head.startsWith('<html');
}

/** Line endings unified, BOM and NUL characters (PostgreSQL text refuses them) dropped, blank runs squeezed. */
export function normalizeText(text: string): string {
  return text
    .replace(/^\uFEFF/, '')
    .replaceAll('\u0000', '')
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t\f\v]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

// ─── HTML ────────────────────────────────────────────────────────────────────

/** Elements whose content is never page text. */
const DROPPED = new Set([
  'script',
  'style',
  'noscript',
  'nav',
  'template',
  'svg',
  'iframe',
  'head',
  'title',
  'form',
  'button',
  'select',
  'canvas',
]);

const BLOCKS = new Set([
  'p',
  'div',
  'section',
  'article',
  'main',
  'header',
  'footer',
  'aside',
  'ul',
  'ol',
  'li',
  'table',
  'tr',
  'blockquote',
  'pre',
  'dl',
  'dt',
  'dd',
  'figure',
  'figcaption',
  'address',
  'details',
  'summary',
  'hr',
]);

/** Visible text of an HTML page, headings as `#` lines, blocks as paragraphs, the title first. */
export function htmlToText(html: string): string {
  const root = parseHtml(html, { comment: false, blockTextElements: { script: false, style: false } });
  const title = root.querySelector('title')?.text.trim();
  const body = root.querySelector('body') ?? root;
  const parts: string[] = [];
  walk(body, parts);
  const text = parts.join('').replace(/[ \t]+/g, ' ');
  const firstHeading = root.querySelector('h1')?.text.trim();
  return title && title !== firstHeading ? `# ${title}\n\n${text}` : text;
}

function walk(node: Node, out: string[]) {
  if (node instanceof TextNode) {
    out.push(node.text.replace(/\s+/g, ' '));
    return;
  }
  if (!(node instanceof HTMLElement)) return;
  const element = node;
  const tag = element.rawTagName?.toLowerCase() ?? '';
  if (DROPPED.has(tag) || element.getAttribute('aria-hidden') === 'true' || element.hasAttribute('hidden'))
    return;
  const heading = /^h([1-6])$/.exec(tag);
  if (heading) {
    out.push(`\n\n${'#'.repeat(Number(heading[1]))} ${element.text.replace(/\s+/g, ' ').trim()}\n\n`);
    return;
  }
  if (tag === 'br') {
    out.push('\n');
    return;
  }
  const block = BLOCKS.has(tag);
  if (block) out.push(tag === 'li' ? '\n- ' : '\n\n');
  if (tag === 'td' || tag === 'th') out.push(' ');
  for (const child of element.childNodes) walk(child, out);
  if (block) out.push(tag === 'li' ? '\n' : '\n\n');
}

// ─── PDF and DOCX ────────────────────────────────────────────────────────────

async function pdfToText(bytes: Uint8Array): Promise<string> {
  // pdf.js may detach the buffer it is given; a copy keeps the caller's intact.
  const parser = new PDFParse({ data: new Uint8Array(bytes) });
  try {
    const result = await parser.getText({ pageJoiner: '' });
    return result.text;
  } finally {
    await parser.destroy();
  }
}

async function docxToText(bytes: Uint8Array): Promise<string> {
  const result = await mammoth.extractRawText({ buffer: Buffer.from(bytes) });
  return result.value;
}
