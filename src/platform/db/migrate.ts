import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { pgTable, text } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type { Db } from './index.ts';

/** Where drizzle-kit writes the committed SQL migrations. */
export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../drizzle');

const journalSchema = z.object({
  entries: z.array(z.object({ idx: z.number(), tag: z.string() })),
});

/** Bookkeeping table of applied migrations (outside drizzle-kit's schema on purpose). */
const migrationsTable = pgTable('switchboard_migrations', { tag: text('tag').primaryKey() });

export interface Migration {
  tag: string;
  hash: string;
  statements: string[];
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const journal = journalSchema.parse(JSON.parse(readFileSync(path.join(dir, 'meta/_journal.json'), 'utf8')));
  return journal.entries
    .sort((a, b) => a.idx - b.idx)
    .map(({ tag }) => {
      const text = readFileSync(path.join(dir, `${tag}.sql`), 'utf8');
      return {
        tag,
        hash: createHash('sha256').update(text).digest('hex'),
        // drizzle-kit qualifies references with "public"; dropping it lets the same SQL build
        // any schema on the search_path (tests run each app in a fresh schema).
        statements: text
          .split('--> statement-breakpoint')
          .map((statement) => statement.replaceAll('"public".', '').trim())
          .filter(Boolean),
      };
    });
}

/**
 * Applies the committed drizzle-kit migrations that are not yet applied, each in one
 * transaction. Drizzle's own migrator takes no lock; this one holds an advisory lock so that
 * several instances starting at once against one database apply each migration once.
 * Returns the tags applied now.
 */
export async function migrate(db: Db, migrations = readMigrations()): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('switchboard:migrate'))`);
    await tx.execute(sql`create extension if not exists pg_trgm with schema public`);
    await tx.execute(sql`create table if not exists switchboard_migrations (
      tag text primary key,
      hash text not null,
      applied_at timestamptz not null default now()
    )`);
    const done = new Set(
      (await tx.select({ tag: migrationsTable.tag }).from(migrationsTable)).map((row) => row.tag),
    );
    const now: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.tag)) continue;
      for (const statement of migration.statements) await tx.execute(sql.raw(statement));
      await tx.execute(
        sql`insert into switchboard_migrations (tag, hash) values (${migration.tag}, ${migration.hash})`,
      );
      now.push(migration.tag);
    }
    return now;
  });
}
