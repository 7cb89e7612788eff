import { Command, InvalidArgumentError, Option } from 'commander';
import { eq } from 'drizzle-orm';
import { ConfigError, loadConfig } from './config.ts';
import { systemContext } from './context.ts';
import { runProductImportCommand } from './features/catalog/import-command.ts';
import { users } from './features/identity/schema.ts';
import { createUser, findUserByEmail, setPassword } from './features/identity/service.ts';
import { ensureAdminPanelBuilt } from './features/system/pages.ts';
import { createWorkspace } from './features/workspaces/service.ts';
import { closeContext, createContext, startServer, VERSION } from './main.ts';
import { openDatabase } from './platform/db/index.ts';
import { migrate } from './platform/db/migrate.ts';
import { createLogger } from './platform/logger.ts';

/** `switchboard` — the one command line of the product. */
const program = new Command()
  .name('switchboard')
  .description('Self-hosted platform for AI customer-conversation bots')
  .version(VERSION);

function config() {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535)
    throw new InvalidArgumentError('not a port number');
  return parsed;
}

program
  .command('start')
  .description('Run the server (web), the background workers (worker), or both (all)')
  .addOption(
    new Option('--role <role>', 'what this instance runs').choices(['web', 'worker', 'all']).default('all'),
  )
  .option('--port <port>', 'HTTP port (overrides PORT)', port)
  .action(async (options: { role: 'web' | 'worker' | 'all'; port?: number }) => {
    const loaded = config();
    if (options.role !== 'worker') ensureAdminPanelBuilt();
    await startServer(
      { ...loaded, ...(options.port === undefined ? {} : { PORT: options.port }) },
      { role: options.role },
    );
  });

program
  .command('migrate')
  .description('Apply pending database migrations and exit')
  .action(async () => {
    const loaded = config();
    const logger = createLogger({ level: loaded.LOG_LEVEL });
    const database = await openDatabase({
      url: loaded.DATABASE_URL,
      pgliteDir: loaded.DATABASE_URL ? undefined : `${loaded.dataDir}/pglite`,
    });
    try {
      const applied = await migrate(database.db);
      logger.info({ applied }, applied.length ? 'migrations applied' : 'database is up to date');
    } finally {
      await database.close();
    }
  });

/** Runs `fn` with a full context (database migrated) and closes it after. */
async function withContext(fn: (ctx: Awaited<ReturnType<typeof createContext>>) => Promise<void>) {
  const loaded = config();
  const ctx = await createContext({ ...loaded, LOG_LEVEL: 'warn' }, { defaultMetrics: false });
  try {
    await fn(ctx);
  } finally {
    await closeContext(ctx);
  }
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

const user = program.command('user').description('Manage user accounts');

user
  .command('create')
  .description('Create a user')
  .requiredOption('--email <email>')
  .requiredOption('--password <password>')
  .option('--name <name>')
  .option('--super-admin', 'platform super-admin (may enter every workspace)', false)
  .action(async (options: { email: string; password: string; name?: string; superAdmin: boolean }) => {
    if (options.password.length < 8) fail('password must be at least 8 characters');
    await withContext(async (ctx) => {
      const created = await ctx.db.transaction((tx) =>
        createUser(systemContext(ctx, 'cli'), tx, { ...options, isSuperAdmin: options.superAdmin }),
      );
      process.stdout.write(
        `created user ${created.email} (${created.id})${created.isSuperAdmin ? ' [super-admin]' : ''}\n`,
      );
    });
  });

user
  .command('reset-password')
  .description("Set a user's password (ends their sessions)")
  .requiredOption('--email <email>')
  .requiredOption('--password <password>')
  .action(async (options: { email: string; password: string }) => {
    if (options.password.length < 8) fail('password must be at least 8 characters');
    await withContext(async (ctx) => {
      const found = await findUserByEmail(ctx.db, options.email);
      if (!found) fail(`no user ${options.email}`);
      await ctx.db.transaction((tx) =>
        setPassword(systemContext(ctx, 'cli'), tx, found.id, options.password),
      );
      process.stdout.write(`password of ${found.email} changed; their sessions were ended\n`);
    });
  });

user
  .command('promote')
  .description('Make a user platform super-admin')
  .requiredOption('--email <email>')
  .action(async (options: { email: string }) => {
    await withContext(async (ctx) => {
      const found = await findUserByEmail(ctx.db, options.email);
      if (!found) fail(`no user ${options.email}`);
      await ctx.db.update(users).set({ isSuperAdmin: true }).where(eq(users.id, found.id));
      process.stdout.write(`${found.email} is now super-admin\n`);
    });
  });

program
  .command('workspace')
  .description('Manage workspaces')
  .command('create')
  .description('Create a workspace owned by an existing user')
  .requiredOption('--name <name>')
  .requiredOption('--owner <email>', 'email of the owner')
  .option('--timezone <zone>')
  .option('--currency <code>')
  .action(async (options: { name: string; owner: string; timezone?: string; currency?: string }) => {
    await withContext(async (ctx) => {
      const owner = await findUserByEmail(ctx.db, options.owner);
      if (!owner) fail(`no user ${options.owner}; create it with: switchboard user create`);
      const workspace = await createWorkspace(systemContext(ctx, 'cli'), {
        name: options.name,
        ownerId: owner.id,
        timezone: options.timezone,
        currency: options.currency,
      });
      process.stdout.write(`created workspace ${workspace.name} (${workspace.id}) slug=${workspace.slug}\n`);
    });
  });

program
  .command('import')
  .description('Import data into a workspace')
  .command('products <file>')
  .description('Import products from a CSV, JSON or NDJSON file (upsert by SKU), with a progress bar')
  .requiredOption('--workspace <id-or-slug>', 'the workspace to import into')
  .addOption(
    new Option('--format <format>', 'default: by the file extension').choices(['csv', 'json', 'ndjson']),
  )
  .action(async (file: string, options: { workspace: string; format?: 'csv' | 'json' | 'ndjson' }) => {
    let code = 0;
    await withContext(async (ctx) => {
      code = await runProductImportCommand(ctx, { file, ...options });
    });
    // Set after the context is closed: closing PGlite (Emscripten) resets process.exitCode.
    process.exitCode = code;
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
