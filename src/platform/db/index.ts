import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { vector } from '@electric-sql/pglite/vector';
import { sql } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import { schema } from '../../schema.ts';
import type { Logger } from '../logger.ts';
import { startEmbeddedMaintenance } from './maintenance.ts';

export type Schema = typeof schema;
/** The Drizzle database, the same type over PGlite and node-postgres. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handle; domain functions accept `Db | Tx` where they may run inside one. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** Runs raw SQL (migrations, maintenance). */
  exec(statement: string): Promise<void>;
  /** Cheap liveness query for /health. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; unset → PGlite. */
  url?: string | undefined;
  /** PGlite data folder; unset → in memory (tests). */
  pgliteDir?: string | undefined;
  /** A PGlite data dir dump to start from (tests start from a migrated template). */
  pgliteLoadDataDir?: Blob | undefined;
  /** PostgreSQL schema to work in (tests: one fresh schema each); created when missing. */
  pgSchema?: string | undefined;
  poolSize?: number | undefined;
  /** PGlite only: run autovacuum's work in the background (see startEmbeddedMaintenance). */
  maintenance?: { logger: Logger; intervalMs?: number } | undefined;
}

/** Opens PGlite (embedded) or a node-postgres pool, behind one Drizzle type. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) return openPostgres(options.url, options);
  return openPglite(options);
}

async function openPglite(options: DatabaseOptions): Promise<Database> {
  if (options.pgliteDir) mkdirSync(path.dirname(options.pgliteDir), { recursive: true });
  // 0.4.x ships both extensions; 0.5 dropped `vector`, which is why the version is pinned.
  const client = await PGlite.create({
    ...(options.pgliteDir ? { dataDir: options.pgliteDir } : {}),
    ...(options.pgliteLoadDataDir ? { loadDataDir: options.pgliteLoadDataDir } : {}),
    extensions: { vector, pg_trgm },
  });
  const db: Db = drizzlePglite({ client, schema });
  const database: Database = {
    db,
    kind: 'pglite',
    exec: async (statement) => {
      await client.exec(statement);
    },
    ping: async () => {
      await client.query('select 1');
    },
    close: async () => {
      await maintenance?.stop();
      if (!client.closed) await client.close();
    },
  };
  const maintenance = options.maintenance
    ? startEmbeddedMaintenance(database, options.maintenance)
    : undefined;
  return database;
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  const pgSchema = options.pgSchema;
  if (pgSchema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(pgSchema)) {
    throw new Error(`invalid schema name ${pgSchema}`);
  }
  if (pgSchema) {
    const bootstrap = new pg.Client({ connectionString: url });
    await bootstrap.connect();
    try {
      await bootstrap.query(`create schema if not exists "${pgSchema}"`);
    } finally {
      await bootstrap.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    // Extensions live in public; a test schema still sees their functions and operators.
    ...(pgSchema ? { options: `-c search_path=${pgSchema},public` } : {}),
  });
  // A pool error on an idle client (server restart) must not crash the process; the next
  // query reconnects and /health reports the outage meanwhile.
  pool.on('error', () => {});
  // The same for a client checked out when its connection dies (pg_terminate_backend, a
  // failover): its query rejects and the caller retries; the 'error' event must not crash.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  const db: Db = drizzleNodePg({ client: pool, schema });
  return {
    db,
    kind: 'postgres',
    exec: async (statement) => {
      await pool.query(statement);
    },
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: async () => {
      if (!pool.ended) await pool.end();
    },
  };
}
