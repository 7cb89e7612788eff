import type { SQL } from 'drizzle-orm';
import type { z } from 'zod';
import type { DbOrTx } from './index.ts';

export type Row = Record<string, unknown>;

/**
 * Runs raw SQL and returns its rows. `execute` is typed loosely over the two drivers
 * (node-postgres and PGlite both answer `{ rows }`), so the shape is checked here once.
 */
export async function queryRows(db: DbOrTx, query: SQL): Promise<Row[]> {
  const result: unknown = await db.execute(query);
  if (typeof result !== 'object' || result === null || !('rows' in result) || !Array.isArray(result.rows))
    throw new Error('unexpected result shape from the database driver');
  return result.rows.filter((row: unknown): row is Row => typeof row === 'object' && row !== null);
}

/**
 * Runs raw SQL and parses each row with `schema` (numbers that node-postgres returns as
 * strings are coerced by the schema).
 */
export async function selectRows<T extends z.ZodType>(
  db: DbOrTx,
  query: SQL,
  schema: T,
): Promise<Array<z.infer<T>>> {
  return (await queryRows(db, query)).map((row) => schema.parse(row));
}

/** A number from a driver value (bigint columns come back as strings from node-postgres). */
export function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && value !== '') return Number(value);
  return 0;
}
