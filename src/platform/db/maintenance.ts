import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Logger } from '../logger.ts';
import type { Database } from './index.ts';
import { selectRows } from './rows.ts';

/**
 * Autovacuum's work for the embedded database. PGlite runs PostgreSQL as a single backend
 * with no autovacuum launcher, so without this its tables are never analyzed (the planner then
 * guesses at every table's size and picks sequential scans over the GIN indexes), dead rows
 * are never reclaimed and GIN pending lists only shrink when they overflow.
 *
 * Every `intervalMs` it reads `pg_stat_user_tables` and runs at most one operation, on the
 * table furthest past autovacuum's default thresholds (PostgreSQL's `autovacuum_*` defaults):
 * VACUUM (ANALYZE) when dead rows exceed 50 + 20 % of the table or rows inserted since the
 * last vacuum exceed 1,000 + 20 %; ANALYZE when rows changed since the last analyze exceed
 * 50 + 10 %. One table per round, because PGlite answers one statement at a time and a vacuum
 * holds every other query until it is done.
 */
export function startEmbeddedMaintenance(
  database: Database,
  options: { logger: Logger; intervalMs?: number },
): { stop: () => Promise<void> } {
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = maintainOnce(database)
      .then((done) => {
        if (done) options.logger.debug(done, 'database maintenance');
      })
      .catch((error: unknown) => options.logger.warn({ err: error }, 'database maintenance failed'))
      .finally(() => {
        running = undefined;
      });
  }, options.intervalMs ?? 30_000);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

const tableStats = z.object({
  table: z.string(),
  tuples: z.coerce.number(),
  dead: z.coerce.number(),
  modified: z.coerce.number(),
  inserted: z.coerce.number(),
});

/** What one round did: the table and the operation, or null when no table needed anything. */
export async function maintainOnce(
  database: Database,
): Promise<{ table: string; operation: 'vacuum' | 'analyze' } | null> {
  const tables = await selectRows(
    database.db,
    sql`select s.relname as "table", greatest(c.reltuples, 0) as tuples, s.n_dead_tup as dead,
        s.n_mod_since_analyze as modified, s.n_ins_since_vacuum as inserted
      from pg_stat_user_tables s join pg_class c on c.oid = s.relid
      where s.schemaname = current_schema()`,
    tableStats,
  );
  let best: { table: string; operation: 'vacuum' | 'analyze'; excess: number } | null = null;
  for (const row of tables) {
    const vacuum = Math.max(row.dead / (50 + 0.2 * row.tuples), row.inserted / (1000 + 0.2 * row.tuples));
    const analyze = row.modified / (50 + 0.1 * row.tuples);
    const operation = vacuum > 1 ? 'vacuum' : 'analyze';
    const excess = vacuum > 1 ? vacuum : analyze;
    if (excess > 1 && (!best || excess > best.excess)) best = { table: row.table, operation, excess };
  }
  if (!best) return null;
  const name = `"${best.table.replaceAll('"', '""')}"`;
  await database.exec(best.operation === 'vacuum' ? `vacuum (analyze) ${name}` : `analyze ${name}`);
  return { table: best.table, operation: best.operation };
}
