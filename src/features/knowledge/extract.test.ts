import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectFormat, extractText, htmlToText } from './extract.ts';
import { detectLanguage, detectQueryLanguage, normalizeQuestion } from './language.ts';

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
const utf8 = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));

describe('extractText', () => {
  it('reads plain text and Markdown as UTF-8, dropping a BOM, NULs and CRLF line ends', async () => {
    expect(await extractText(utf8('\uFEFFLine one\r\nLine\u0000 two\r\n\r\n\r\n\r\nEnd'), 'text')).toBe(
      'Line one\nLine two\n\nEnd',
    );
    expect(await extractText(utf8('# Доставка\n\nСтоит 500 ₽.'), 'markdown')).toBe(
      '# Доставка\n\nСтоит 500 ₽.',
    );
  });

  it('refuses text that is not UTF-8', async () => {
    await expect(extractText(new Uint8Array([0xff, 0xfe, 0x41, 0xc0]), 'text')).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('reads the visible text of HTML: headings as # lines, no scripts, styles, navigation or hidden parts', async () => {
    const html = `<!doctype html><html><head><title>Shop help</title><style>p{color:red}</style>
      <script>var secret = "tracking";</script></head><body>
      <nav><a href="/">Home</a> | <a href="/cart">Cart</a></nav>
      <h1>Delivery</h1><p>We deliver in <b>2&ndash;3 days</b>.</p>
      <div hidden>Hidden promo</div><ul><li>City: 1500 &#8381;</li><li>Region: by quote</li></ul>
      <h2>Returns</h2><p>Within&nbsp;14 days.<br>Keep the receipt.</p>
      <noscript>Enable JS</noscript><script>track()</script></body></html>`;
    const text = await extractText(utf8(html), 'html');
    expect(text).toContain('# Shop help');
    expect(text).toContain('# Delivery');
    expect(text).toContain('We deliver in 2–3 days.');
    expect(text).toContain('- City: 1500 ₽');
    expect(text).toContain('## Returns');
    expect(text).toContain('Keep the receipt.');
    for (const absent of [
      'secret',
      'tracking',
      'color:red',
      'Home',
      'Cart',
      'Hidden promo',
      'Enable JS',
      'track()',
    ])
      expect(text).not.toContain(absent);
  });

  it('does not repeat the title when it is the first heading', () => {
    expect(htmlToText('<title>FAQ</title><h1>FAQ</h1><p>Text</p>').match(/FAQ/g)).toHaveLength(1);
  });

  it('reads a PDF (fixtures/delivery.pdf)', async () => {
    const text = await extractText(fixture('delivery.pdf'), 'pdf');
    expect(text).toContain('Delivery policy of the Uyut furniture shop.');
    expect(text).toContain('Delivery within the city costs 1500 roubles.');
  });

  it('reads a DOCX (fixtures/warranty.docx), Cyrillic included', async () => {
    const text = await extractText(fixture('warranty.docx'), 'docx');
    expect(text).toContain('Every sofa has an 18-month warranty');
    expect(text).toContain('Гарантия на каркасы диванов — 5 лет.');
  });

  it('refuses a broken PDF with a clear message', async () => {
    await expect(extractText(utf8('%PDF-1.4\nnot really a pdf'), 'pdf')).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('Could not read the pdf file'),
    });
  });
});

describe('detectFormat', () => {
  it('recognises PDF and DOCX by their bytes whatever the declared type', () => {
    expect(detectFormat(fixture('delivery.pdf'), { contentType: 'text/plain' })).toBe('pdf');
    expect(detectFormat(fixture('warranty.docx'), { contentType: 'application/octet-stream' })).toBe('docx');
  });

  it('uses the content type, then the file name, then sniffs unlabelled text', () => {
    expect(detectFormat(utf8('# Hi'), { contentType: 'text/markdown; charset=utf-8' })).toBe('markdown');
    expect(detectFormat(utf8('<p>Hi</p>'), { contentType: 'text/html' })).toBe('html');
    expect(detectFormat(utf8('# Hi'), { contentType: 'application/octet-stream', fileName: 'faq.md' })).toBe(
      'markdown',
    );
    expect(detectFormat(utf8('<!DOCTYPE html><p>x</p>'), {})).toBe('html');
    expect(detectFormat(utf8('plain words'), {})).toBe('text');
  });

  it('answers undefined for what it cannot read', () => {
    expect(
      detectFormat(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0]), { contentType: 'image/png' }),
    ).toBeUndefined();
    expect(
      detectFormat(new Uint8Array([0x50, 0x4b, 3, 4, 0, 0]), { contentType: 'application/zip' }),
    ).toBeUndefined();
  });
});

describe('detectLanguage', () => {
  it('chooses the text-search configuration from the share of Cyrillic letters', () => {
    expect(detectLanguage('Delivery within the city costs 1500 roubles.')).toBe('english');
    expect(detectLanguage('Доставка по городу стоит 1500 рублей.')).toBe('russian');
    expect(detectLanguage('Sofa SOFA-001: доставка бесплатно, assembly included, warranty 18 months')).toBe(
      'russian',
    );
    expect(detectLanguage('配送は3日以内です')).toBe('simple');
    expect(detectLanguage('12345 — !!!')).toBe('simple');
  });

  it('parses a query as Russian when it has any Cyrillic letter', () => {
    expect(detectQueryLanguage('Сколько стоит доставка?')).toBe('russian');
    expect(detectQueryLanguage('SOFA-001 цена')).toBe('russian');
    expect(detectQueryLanguage('how much is delivery')).toBe('english');
    expect(detectQueryLanguage('123')).toBe('simple');
  });

  it('normalises questions for trigram comparison', () => {
    expect(normalizeQuestion('  Сколько стоит ДОСТАВКА?! Ёлка…')).toBe('сколько стоит доставка елка');
  });
});
