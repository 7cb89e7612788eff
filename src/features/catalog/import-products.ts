import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { parse as parseCsv } from 'csv-parse';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { z } from 'zod';
import type { RequestContext } from '../../context.ts';
import type { DbOrTx } from '../../platform/db/index.ts';
import { AppError } from '../../platform/errors.ts';
import { recordAudit } from '../audit/service.ts';
import { enqueuePriceAlertCheck } from './price-alerts.ts';
import { products } from './schema.ts';
import {
  type PriceChange,
  type Product,
  productColumns,
  productInputSchema,
  recordPriceChanges,
  recordTerms,
  sameJson,
  workspaceCurrency,
} from './service.ts';

export type ImportFormat = 'csv' | 'json' | 'ndjson';

export interface ImportRowError {
  /** CSV: the line in the file (the header is line 1); JSON: the item's position (1-based); NDJSON: the line. */
  row: number;
  sku: string | null;
  message: string;
}

export interface ImportProgress {
  bytes: number;
  rows: number;
}

export interface ImportResult {
  /** Data rows read (valid or not). */
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  /** The first MAX_REPORTED_ERRORS row errors; `errorsTruncated` says when there were more. */
  errors: ImportRowError[];
  errorsTruncated: boolean;
  /** Why reading stopped before the end (malformed file, over the size limit), else null. Rows before it were imported. */
  aborted: string | null;
}

/** Row errors reported back at most (the counts stay exact). */
export const MAX_REPORTED_ERRORS = 100;

/** Largest import accepted: the input is streamed, this only bounds one request's work. */
export const MAX_IMPORT_BYTES = 200 * 1024 * 1024;

/** Rows upserted per transaction: large enough for multi-row statements, small enough to keep locks short. */
const BATCH_SIZE = 500;

/** One CSV field or JSON item larger than this is refused (a missing quote would otherwise swallow the file). */
const MAX_RECORD_BYTES = 1024 * 1024;

/**
 * Imports products from a CSV, JSON (an array of objects) or NDJSON stream, upserting by SKU
 * (case-insensitive) in batches, each batch one transaction. A row's problems are reported
 * with its row number and never stop the others; columns absent from the input leave those
 * fields of existing products alone. Price changes go to the price history (source `import`)
 * and start a price-alert check. One audit row records the counts.
 *
 * CSV: a header row naming at least `sku`, `name` and `price` (English or Russian names:
 * `артикул`, `название`, `цена`…); `,`, `;` or tab separated (detected from the header);
 * columns other than the known ones become attributes.
 */
export async function importProducts(
  ctx: RequestContext,
  options: {
    workspaceId: string;
    format: ImportFormat;
    source: AsyncIterable<Buffer | string>;
    maxBytes?: number;
    onProgress?: (progress: ImportProgress) => void;
  },
): Promise<ImportResult> {
  const currency = await workspaceCurrency(ctx.db, options.workspaceId);
  const result: ImportResult = {
    rows: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    failed: 0,
    errors: [],
    errorsTruncated: false,
    aborted: null,
  };
  const fail = (error: ImportRowError) => {
    result.failed += 1;
    if (result.errors.length < MAX_REPORTED_ERRORS)
      result.errors.push({ ...error, message: error.message.slice(0, 500) });
    else result.errorsTruncated = true;
  };
  const progress = { bytes: 0, rows: 0 };
  const counted = countBytes(options.source, options.maxBytes ?? MAX_IMPORT_BYTES, (bytes) => {
    progress.bytes = bytes;
  });
  const recheck = new Set<string>();
  let batch: ImportRow[] = [];
  let batchSkus = new Set<string>();
  const flush = async () => {
    if (batch.length === 0) return;
    const rows = batch;
    batch = [];
    batchSkus = new Set();
    let outcome: Awaited<ReturnType<typeof upsertBatch>>;
    try {
      outcome = await ctx.db.transaction((tx) =>
        upsertBatch(tx, { workspaceId: options.workspaceId, currency, rows }),
      );
    } catch (error) {
      // The batch rolled back as a whole: its rows are reported, then the import stops. The
      // database's own message (with the SQL) goes to the log, not to the caller.
      ctx.logger.error({ err: error, workspaceId: options.workspaceId }, 'product import batch failed');
      for (const row of rows)
        fail({ row: row.row, sku: row.input.sku, message: 'Not stored: database error' });
      throw new Error('A batch could not be stored (database error); the batches before it were imported');
    }
    result.created += outcome.created;
    result.updated += outcome.updated;
    result.unchanged += outcome.unchanged;
    for (const error of outcome.errors) fail(error);
    for (const id of outcome.recheck) recheck.add(id);
  };

  const items =
    options.format === 'csv'
      ? csvRows(counted)
      : options.format === 'json'
        ? jsonArrayRows(counted)
        : ndjsonRows(counted);
  try {
    for await (const item of items) {
      result.rows += 1;
      progress.rows = result.rows;
      if ('error' in item) fail({ row: item.row, sku: item.sku, message: item.error });
      else {
        const parsed = productInputSchema.safeParse(item.values);
        if (!parsed.success) {
          fail({ row: item.row, sku: skuOf(item.values), message: issuesText(parsed.error) });
        } else {
          const key = parsed.data.sku.toLowerCase();
          // The same SKU twice in one batch: the later row must see the earlier one stored.
          if (batchSkus.has(key)) await flush();
          batch.push({ row: item.row, input: parsed.data, present: item.present });
          batchSkus.add(key);
          if (batch.length >= BATCH_SIZE) await flush();
        }
      }
      options.onProgress?.({ ...progress });
    }
    await flush();
  } catch (error) {
    if (error instanceof AppError && result.rows === 0 && result.failed === 0) throw error;
    // What was read before a malformed part is still stored (a failing batch reports itself).
    await flush().catch(() => {});
    result.aborted = error instanceof Error ? error.message : String(error);
  }
  options.onProgress?.({ ...progress });

  await ctx.db.transaction((tx) =>
    recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'product.import',
      targetType: 'product',
      after: {
        format: options.format,
        rows: result.rows,
        created: result.created,
        updated: result.updated,
        unchanged: result.unchanged,
        failed: result.failed,
        ...(result.aborted ? { aborted: result.aborted } : {}),
      },
    }),
  );
  if (recheck.size > 0) await enqueuePriceAlertCheck(ctx, [...recheck]);
  return result;
}

// ─── Upserting ───────────────────────────────────────────────────────────────

type Fields = keyof z.output<typeof productInputSchema>;

interface ImportRow {
  row: number;
  input: z.output<typeof productInputSchema>;
  /** Fields the input named; the others keep their stored values. */
  present: ReadonlySet<Fields>;
}

async function upsertBatch(
  tx: DbOrTx,
  options: { workspaceId: string; currency: string; rows: ImportRow[] },
) {
  const outcome = {
    created: 0,
    updated: 0,
    unchanged: 0,
    errors: [] as ImportRowError[],
    recheck: [] as string[],
  };
  const existing = await tx
    .select(productColumns)
    .from(products)
    .where(
      and(
        eq(products.workspaceId, options.workspaceId),
        inArray(
          sql`lower(${products.sku})`,
          options.rows.map((row) => row.input.sku.toLowerCase()),
        ),
      ),
    )
    // Locks taken in one order, so two imports touching the same products queue, not deadlock.
    .orderBy(products.id)
    .for('update');
  const bySku = new Map(existing.map((product) => [product.sku.toLowerCase(), product]));
  const inserts: Array<typeof products.$inferInsert & { row: number }> = [];
  const changes: PriceChange[] = [];
  const texts: Array<string | null> = [];
  const now = new Date();
  for (const row of options.rows) {
    const before = bySku.get(row.input.sku.toLowerCase());
    if (!before) {
      texts.push(row.input.name, row.input.category ?? null);
      inserts.push({
        row: row.row,
        workspaceId: options.workspaceId,
        sku: row.input.sku,
        name: row.input.name,
        description: row.input.description ?? null,
        price: row.input.price,
        currency: row.input.currency ?? options.currency,
        category: row.input.category ?? null,
        imageUrl: row.input.imageUrl ?? null,
        available: row.input.available ?? true,
        attributes: row.input.attributes ?? {},
      });
      continue;
    }
    const next = mergeRow(before, row);
    const set = changedFields(before, next);
    if (Object.keys(set).length === 0) {
      outcome.unchanged += 1;
      continue;
    }
    const priceChanged = set.price !== undefined || set.currency !== undefined;
    if (set.name !== undefined || set.category !== undefined) texts.push(next.name, next.category);
    await tx
      .update(products)
      .set({ ...set, updatedAt: now, ...(priceChanged ? { priceChangedAt: now } : {}) })
      .where(eq(products.id, before.id));
    outcome.updated += 1;
    if (priceChanged) {
      changes.push({
        workspaceId: options.workspaceId,
        productId: before.id,
        oldPrice: before.price,
        newPrice: next.price,
        currency: next.currency,
      });
    }
    if (priceChanged || (set.available === true && !before.available)) outcome.recheck.push(before.id);
  }
  if (inserts.length > 0) {
    const stored = await tx
      .insert(products)
      .values(inserts.map(({ row: _row, ...values }) => values))
      .onConflictDoNothing()
      .returning({ id: products.id, sku: products.sku, price: products.price, currency: products.currency });
    const storedSkus = new Set(stored.map((product) => product.sku.toLowerCase()));
    for (const insert of inserts) {
      if (!storedSkus.has(insert.sku.toLowerCase()))
        outcome.errors.push({
          row: insert.row,
          sku: insert.sku,
          message: 'The SKU was created by someone else at the same time; import again to update it',
        });
    }
    outcome.created += stored.length;
    for (const product of stored)
      changes.push({
        workspaceId: options.workspaceId,
        productId: product.id,
        oldPrice: null,
        newPrice: product.price,
        currency: product.currency,
      });
  }
  await recordPriceChanges(tx, changes, 'import');
  await recordTerms(tx, options.workspaceId, texts);
  return outcome;
}

type Editable = Omit<Product, 'id' | 'workspaceId' | 'createdAt' | 'updatedAt'>;

/** The product after applying the fields the row names. */
function mergeRow(before: Product, row: ImportRow): Editable {
  const { input, present } = row;
  return {
    sku: input.sku,
    name: input.name,
    price: input.price,
    description: present.has('description') ? (input.description ?? null) : before.description,
    currency: present.has('currency') && input.currency ? input.currency : before.currency,
    category: present.has('category') ? (input.category ?? null) : before.category,
    imageUrl: present.has('imageUrl') ? (input.imageUrl ?? null) : before.imageUrl,
    available: present.has('available') ? (input.available ?? true) : before.available,
    attributes: present.has('attributes') ? (input.attributes ?? {}) : before.attributes,
  };
}

function changedFields(before: Product, next: Editable): Partial<Editable> {
  const set: Partial<Editable> = {};
  if (next.sku !== before.sku) set.sku = next.sku;
  if (next.name !== before.name) set.name = next.name;
  if (next.price !== before.price) set.price = next.price;
  if (next.description !== before.description) set.description = next.description;
  if (next.currency !== before.currency) set.currency = next.currency;
  if (next.category !== before.category) set.category = next.category;
  if (next.imageUrl !== before.imageUrl) set.imageUrl = next.imageUrl;
  if (next.available !== before.available) set.available = next.available;
  if (!sameJson(next.attributes, before.attributes)) set.attributes = next.attributes;
  return set;
}

// ─── Reading rows ────────────────────────────────────────────────────────────

type RawRow =
  | { row: number; values: Record<string, unknown>; present: ReadonlySet<Fields> }
  | { row: number; sku: string | null; error: string };

class RowError extends Error {}

/** Passes the chunks through, counting bytes; throws past `maxBytes`. */
async function* countBytes(
  source: AsyncIterable<Buffer | string>,
  maxBytes: number,
  onBytes: (bytes: number) => void,
): AsyncGenerator<Buffer> {
  let bytes = 0;
  for await (const chunk of source) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    bytes += buffer.byteLength;
    if (bytes > maxBytes) throw new Error(`The input is over the limit of ${maxBytes} bytes`);
    onBytes(bytes);
    yield buffer;
  }
}

/** Column names (lower-cased, spaces and dashes as `_`) by field. */
const COLUMN_ALIASES: Record<Fields, string[]> = {
  sku: ['sku', 'артикул', 'article', 'code', 'код'],
  name: ['name', 'title', 'название', 'наименование'],
  description: ['description', 'описание'],
  price: ['price', 'цена'],
  currency: ['currency', 'валюта'],
  category: ['category', 'категория'],
  imageUrl: ['image_url', 'imageurl', 'image', 'photo', 'фото', 'изображение'],
  available: ['available', 'availability', 'in_stock', 'в_наличии', 'наличие'],
  attributes: ['attributes', 'атрибуты'],
};

const FIELD_OF_COLUMN = new Map<string, Fields>(
  Object.entries(COLUMN_ALIASES).flatMap(([field, names]) =>
    names.map((name): [string, Fields] => [name, fieldName(field)]),
  ),
);

function fieldName(value: string): Fields {
  return productInputSchema.keyof().parse(value);
}

function normalizeColumn(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
}

/** The delimiter the header line uses most: `,`, `;` or tab. */
function sniffDelimiter(firstLine: string): string {
  let best = ',';
  let bestCount = 0;
  for (const candidate of [',', ';', '\t']) {
    let count = 0;
    let quoted = false;
    for (const char of firstLine) {
      if (char === '"') quoted = !quoted;
      else if (char === candidate && !quoted) count += 1;
    }
    if (count > bestCount) {
      best = candidate;
      bestCount = count;
    }
  }
  return best;
}

/** Reads CSV records with csv-parse (streaming); the first record is the header. */
async function* csvRows(input: AsyncIterable<Buffer>): AsyncGenerator<RawRow> {
  const iterator = input[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headText = '';
  // Enough of the input to see the whole header line.
  while (!headText.includes('\n') && headText.length < 64 * 1024) {
    const next = await iterator.next();
    if (next.done) break;
    head.push(next.value);
    headText += next.value.toString('utf8');
  }
  const delimiter = sniffDelimiter(headText.replace(/^\uFEFF/, '').split(/\r?\n/)[0] ?? '');
  const skipped: RawRow[] = [];
  const parser = parseCsv({
    delimiter,
    bom: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true,
    info: true,
    max_record_size: MAX_RECORD_BYTES,
    skip_records_with_error: true,
    on_skip: (error) => {
      const line = typeof error?.lines === 'number' ? error.lines : 0;
      skipped.push({
        row: line,
        sku: null,
        error: `Malformed CSV: ${error?.message ?? 'unreadable record'}`,
      });
      return undefined;
    },
  });
  const chunks = async function* () {
    yield* head;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  };
  Readable.from(chunks())
    .on('error', (error) => parser.destroy(error))
    .pipe(parser);

  let header: Array<{ field: Fields | null; name: string }> | undefined;
  for await (const entry of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    yield* skipped.splice(0);
    const { record, info } = entry;
    if (!header) {
      header = csvHeader(record);
      continue;
    }
    yield csvRecordToRow(header, record, info.lines);
  }
  yield* skipped.splice(0);
  if (!header) throw new AppError('BAD_REQUEST', { message: 'The CSV is empty: expected a header row' });
}

function csvHeader(record: string[]) {
  const header = record.map((raw) => {
    const name = raw.replace(/^\uFEFF/, '').trim();
    return { name, field: FIELD_OF_COLUMN.get(normalizeColumn(name)) ?? null };
  });
  const fields = header.flatMap((column) => (column.field ? [column.field] : []));
  const missing = (['sku', 'name', 'price'] as const).filter((field) => !fields.includes(field));
  if (missing.length > 0)
    throw new AppError('BAD_REQUEST', {
      message: `The CSV header must name the columns sku, name and price; missing: ${missing.join(', ')} (found: ${header.map((column) => column.name).join(', ')})`,
    });
  const repeated = fields.filter((field, index) => fields.indexOf(field) !== index);
  if (repeated.length > 0)
    throw new AppError('BAD_REQUEST', { message: `The CSV header names ${repeated.join(', ')} twice` });
  return header;
}

function csvRecordToRow(
  header: Array<{ field: Fields | null; name: string }>,
  record: string[],
  line: number,
): RawRow {
  const skuIndex = header.findIndex((column) => column.field === 'sku');
  const sku = record[skuIndex]?.trim() || null;
  if (record.length !== header.length)
    return {
      row: line,
      sku,
      error: `Expected ${header.length} columns, found ${record.length}`,
    };
  try {
    const values: Record<string, unknown> = {};
    const present = new Set<Fields>();
    const extra: Record<string, string> = {};
    header.forEach((column, index) => {
      const cell = record[index] ?? '';
      if (!column.field) {
        if (cell !== '' && column.name !== '') extra[column.name] = cell;
        return;
      }
      present.add(column.field);
      values[column.field] = csvValue(column.field, cell);
    });
    if (Object.keys(extra).length > 0) {
      const attributes = values.attributes;
      values.attributes = { ...extra, ...(isRecord(attributes) ? attributes : {}) };
      present.add('attributes');
    }
    for (const field of ['currency', 'available', 'attributes'] as const)
      if (values[field] === undefined) delete values[field];
    return { row: line, values, present };
  } catch (error) {
    return { row: line, sku, error: error instanceof Error ? error.message : String(error) };
  }
}

/** A CSV cell as the value the product schema expects. */
function csvValue(field: Fields, cell: string): unknown {
  switch (field) {
    case 'price':
      return parsePrice(cell);
    case 'available':
      return cell === '' ? undefined : parseBoolean(cell);
    case 'currency':
      return cell === '' ? undefined : cell;
    case 'attributes': {
      if (cell === '') return undefined;
      try {
        return JSON.parse(cell);
      } catch {
        throw new RowError('attributes: not valid JSON');
      }
    }
    default:
      return cell;
  }
}

/** "129900", "129 900,50", "129900.50", "1,299.00" → a number; throws on anything else. */
export function parsePrice(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') throw new RowError('price: expected a number');
  let text = value.replace(/[\s\u00a0\u202f]/g, '').replace(/(₽|руб\.?|р\.|rub|\$|€|usd|eur)$/i, '');
  if (/^\d{1,3}(,\d{3})+(\.\d+)?$/.test(text)) text = text.replaceAll(',', '');
  else if (!text.includes('.')) text = text.replace(',', '.');
  if (!/^\d+(\.\d+)?$/.test(text)) throw new RowError(`price: not a number (${JSON.stringify(value)})`);
  return Number(text);
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'y', 'да', 'в наличии', 'есть', '+']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'n', 'нет', 'нет в наличии', '-']);

function parseBoolean(value: string): boolean {
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw new RowError(`available: expected true or false (${JSON.stringify(value)})`);
}

/** Fields an exported product carries that an import ignores. */
const IGNORED_JSON_KEYS = new Set(['id', 'workspaceId', 'createdAt', 'updatedAt', 'score']);

/** A parsed JSON item as a row: `image_url` accepted for `imageUrl`, prices as strings too. */
function jsonItemToRow(item: unknown, row: number): RawRow {
  if (!isRecord(item)) return { row, sku: null, error: 'Expected an object' };
  const values: Record<string, unknown> = {};
  const present = new Set<Fields>();
  for (const [key, value] of Object.entries(item)) {
    if (IGNORED_JSON_KEYS.has(key)) continue;
    const field = key === 'image_url' ? 'imageUrl' : key;
    values[field] = value;
    const known = productInputSchema.keyof().safeParse(field);
    if (known.success) present.add(known.data);
  }
  try {
    if (typeof values.price === 'string') values.price = parsePrice(values.price);
  } catch (error) {
    return { row, sku: skuOf(values), error: error instanceof Error ? error.message : String(error) };
  }
  if (values.description === null) values.description = '';
  return { row, values, present };
}

/**
 * Items of a top-level JSON array, one at a time, without holding the whole document: a small
 * scanner finds where each item ends (depth outside strings) and JSON.parse reads it.
 */
async function* jsonArrayRows(input: AsyncIterable<Buffer>): AsyncGenerator<RawRow> {
  const decoder = new StringDecoder('utf8');
  // In an object, not a variable: TypeScript narrows a local across the loop's yields wrongly.
  const scan: { state: 'before' | 'between' | 'item' | 'after' } = { state: 'before' };
  let depth = 0;
  let inString = false;
  let escaped = false;
  let current = '';
  let index = 0;
  const finish = (text: string): RawRow => {
    index += 1;
    try {
      return jsonItemToRow(JSON.parse(text), index);
    } catch {
      return { row: index, sku: null, error: 'Malformed JSON item' };
    }
  };
  for await (const buffer of input) {
    const chunk = decoder.write(buffer);
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const char = chunk.charAt(i);
      if (scan.state === 'item') {
        if (inString) {
          if (escaped) escaped = false;
          else if (char === '\\') escaped = true;
          else if (char === '"') inString = false;
        } else if (char === '"') inString = true;
        else if (char === '{' || char === '[') depth += 1;
        else if ((char === '}' || char === ']') && depth > 0) {
          depth -= 1;
          if (depth === 0) {
            yield finish(current + chunk.slice(start, i + 1));
            current = '';
            scan.state = 'between';
          }
        } else if ((char === ',' || char === ']') && depth === 0) {
          // The end of a scalar item (a number, string, true…): invalid, but reported per row.
          yield finish(current + chunk.slice(start, i));
          current = '';
          scan.state = char === ']' ? 'after' : 'between';
        }
        continue;
      }
      if (char === ' ' || char === '\n' || char === '\r' || char === '\t' || char === '\uFEFF') continue;
      if (scan.state === 'before') {
        if (char !== '[') throw new AppError('BAD_REQUEST', { message: 'Expected a JSON array of products' });
        scan.state = 'between';
      } else if (scan.state === 'between') {
        if (char === ']') scan.state = 'after';
        else if (char !== ',') {
          scan.state = 'item';
          start = i;
          depth = 0;
          i -= 1;
        }
      } else {
        throw new Error('Unexpected data after the end of the JSON array');
      }
    }
    if (scan.state === 'item') {
      current += chunk.slice(start);
      if (current.length > MAX_RECORD_BYTES)
        throw new Error(`JSON item ${index + 1} is larger than ${MAX_RECORD_BYTES} bytes`);
    }
  }
  if (scan.state === 'before') throw new AppError('BAD_REQUEST', { message: 'The JSON body is empty' });
  if (scan.state !== 'after') throw new Error('The JSON array ends early (truncated input?)');
}

/** One JSON object per line; blank lines skipped. */
async function* ndjsonRows(input: AsyncIterable<Buffer>): AsyncGenerator<RawRow> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let line = 0;
  const parseLine = (text: string): RawRow | undefined => {
    line += 1;
    const trimmed = text.replace(/^\uFEFF/, '').trim();
    if (!trimmed) return undefined;
    try {
      return jsonItemToRow(JSON.parse(trimmed), line);
    } catch {
      return { row: line, sku: null, error: 'Malformed JSON line' };
    }
  };
  for await (const buffer of input) {
    pending += decoder.write(buffer);
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      const row = parseLine(pending.slice(0, newline));
      if (row) yield row;
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
    if (pending.length > MAX_RECORD_BYTES)
      throw new Error(`Line ${line + 1} is longer than ${MAX_RECORD_BYTES} bytes`);
  }
  pending += decoder.end();
  const row = parseLine(pending);
  if (row) yield row;
}

// ─── Helpers ─────────────────────────────────────────────────────────────────

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function skuOf(values: Record<string, unknown>): string | null {
  return typeof values.sku === 'string' && values.sku.trim() ? values.sku.trim().slice(0, 64) : null;
}

function issuesText(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}
