import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, readMigrations } from './migrate.ts';

const root = path.resolve(MIGRATIONS_DIR, '..');

describe('committed migrations', () => {
  it('match the Drizzle schema: drizzle-kit generate has nothing new to write', () => {
    const work = mkdtempSync(path.join(tmpdir(), 'switchboard-drift-'));
    try {
      const out = path.join(work, 'drizzle');
      cpSync(MIGRATIONS_DIR, out, { recursive: true });
      const config = path.join(work, 'drizzle.config.json');
      writeFileSync(
        config,
        // drizzle-kit resolves `out` against the working directory only.
        JSON.stringify({
          dialect: 'postgresql',
          schema: [path.join(root, 'src/features/*/schema.ts'), path.join(root, 'src/pipeline/schema.ts')],
          out: './drizzle',
          breakpoints: true,
        }),
      );
      const before = readdirSync(out).sort();
      const output = execFileSync(
        path.join(root, 'node_modules/.bin/drizzle-kit'),
        ['generate', `--config=${config}`],
        {
          cwd: work,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      // drizzle-kit exits 0 even when it fails, so its words are checked too.
      expect(output).toContain('No schema changes');
      const after = readdirSync(out).sort();
      expect(after, `schema changed without a migration; run npm run db:generate\n${output}`).toEqual(before);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 60_000);

  it('are readable, ordered and strip the "public" qualifier so any schema can hold them', () => {
    const migrations = readMigrations();
    expect(migrations.length).toBeGreaterThan(0);
    for (const migration of migrations) {
      expect(migration.statements.length).toBeGreaterThan(0);
      expect(migration.statements.join('\n')).not.toContain('"public".');
    }
  });
});
