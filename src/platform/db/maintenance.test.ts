import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type Database, openDatabase } from './index.ts';
import { maintainOnce } from './maintenance.ts';
import { selectRows } from './rows.ts';

let database: Database;

beforeAll(async () => {
  database = await openDatabase({});
});
afterAll(async () => {
  await database?.close();
});

const statsOf = async (table: string) => {
  const [row] = await selectRows(
    database.db,
    sql`select c.reltuples as tuples, s.n_dead_tup as dead, s.n_mod_since_analyze as modified,
        s.last_vacuum is not null as vacuumed, s.last_analyze is not null as analyzed
      from pg_stat_user_tables s join pg_class c on c.oid = s.relid where s.relname = ${table}`,
    z.object({
      tuples: z.coerce.number(),
      dead: z.coerce.number(),
      modified: z.coerce.number(),
      vacuumed: z.boolean(),
      analyzed: z.boolean(),
    }),
  );
  if (!row) throw new Error(`no statistics for ${table}`);
  return row;
};

/** PostgreSQL publishes table statistics at most once a second: poll until they show. */
async function statsShow(table: string, predicate: (stats: Awaited<ReturnType<typeof statsOf>>) => boolean) {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (predicate(await statsOf(table))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`statistics of ${table} never showed the change`);
}

describe('maintainOnce', () => {
  it('vacuums and analyzes a PGlite table past autovacuum thresholds, then leaves it alone', async () => {
    await database.exec(`create table items (id serial primary key, name text not null);
      insert into items (name) select 'item ' || g from generate_series(1, 5000) as g;
      create table quiet (id int primary key); insert into quiet values (1);`);
    await statsShow('items', (stats) => stats.modified >= 5000);
    expect((await statsOf('items')).tuples).toBeLessThan(1);

    expect(await maintainOnce(database)).toEqual({ table: 'items', operation: 'vacuum' });
    const after = await statsOf('items');
    expect(after).toMatchObject({ tuples: 5000, vacuumed: true, analyzed: true });
    // "quiet" changed one row: under every threshold.
    expect(await maintainOnce(database)).toBeNull();

    // 700 of 5,000 rows updated: past the analyze threshold (50 + 10 %), not yet the vacuum
    // one (50 + 20 %); deleting 2,000 more passes that.
    await database.exec(`update items set name = name || '!' where id <= 700`);
    await statsShow('items', (stats) => stats.modified >= 700);
    expect(await maintainOnce(database)).toEqual({ table: 'items', operation: 'analyze' });
    await database.exec(`delete from items where id > 3000`);
    await statsShow('items', (stats) => stats.dead >= 2000);
    expect(await maintainOnce(database)).toEqual({ table: 'items', operation: 'vacuum' });
    expect(await statsOf('items')).toMatchObject({ tuples: 3000, dead: 0 });
  });
});
