import type { SQL } from 'drizzle-orm';
import type { z } from 'zod';
import type { DbOrTx } from '../../platform/db/index.ts';

/**
 * Runs raw SQL and parses its rows with `schema`. Both drivers answer `{ rows }`, but
 * `execute` is typed loosely over them, so the shape is checked here (and numbers that
 * node-postgres returns as strings are coerced by the schema).
 */
export async function selectRows<T extends z.ZodType>(
  db: DbOrTx,
  query: SQL,
  schema: T,
): Promise<Array<z.infer<T>>> {
  const result: unknown = await db.execute(query);
  if (typeof result !== 'object' || result === null || !('rows' in result) || !Array.isArray(result.rows)) {
    throw new Error('unexpected result shape from the database driver');
  }
  return result.rows.map((row: unknown) => schema.parse(row));
}
