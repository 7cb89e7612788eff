import { createReadStream, statSync } from 'node:fs';
import path from 'node:path';
import { SingleBar } from 'cli-progress';
import { eq, or } from 'drizzle-orm';
import { type AppContext, systemContext } from '../../context.ts';
import { AppError } from '../../platform/errors.ts';
import { workspaces } from '../workspaces/schema.ts';
import { type ImportFormat, type ImportResult, importProducts } from './import-products.ts';

const FORMAT_OF_EXTENSION: Record<string, ImportFormat> = {
  '.csv': 'csv',
  '.json': 'json',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
};

/**
 * `switchboard import products FILE --workspace <id-or-slug>`: the same import as
 * `POST /api/workspaces/:ws/products/import`, reading the file as a stream with a progress bar
 * (bytes read, rows) on a terminal. Prints a summary and the row errors; resolves to the exit
 * code: 1 when any row failed or the file could not be read to the end.
 */
export async function runProductImportCommand(
  ctx: AppContext,
  options: {
    file: string;
    workspace: string;
    format?: ImportFormat | undefined;
    out?: NodeJS.WritableStream;
    err?: NodeJS.WritableStream & { isTTY?: boolean };
  },
): Promise<number> {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const format = options.format ?? FORMAT_OF_EXTENSION[path.extname(options.file).toLowerCase()];
  if (!format) {
    err.write(
      `cannot tell the format of ${options.file}; name it .csv, .json or .ndjson, or pass --format\n`,
    );
    return 2;
  }
  let size: number;
  try {
    size = statSync(options.file).size;
  } catch {
    err.write(`cannot read ${options.file}\n`);
    return 2;
  }
  const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(options.workspace);
  const [workspace] = await ctx.db
    .select({ id: workspaces.id, name: workspaces.name, slug: workspaces.slug })
    .from(workspaces)
    .where(
      isUuid
        ? or(eq(workspaces.id, options.workspace), eq(workspaces.slug, options.workspace))
        : eq(workspaces.slug, options.workspace),
    );
  if (!workspace) {
    err.write(`no workspace ${options.workspace} (give its id or slug)\n`);
    return 2;
  }

  const bar = new SingleBar({
    stream: err,
    format: 'importing |{bar}| {percentage}% · {value}/{total} bytes · {rows} rows',
    hideCursor: true,
    clearOnComplete: true,
  });
  bar.start(size, 0, { rows: 0 });
  let result: ImportResult;
  try {
    result = await importProducts(systemContext(ctx, 'cli'), {
      workspaceId: workspace.id,
      format,
      source: createReadStream(options.file),
      onProgress: ({ bytes, rows }) => bar.update(bytes, { rows }),
    });
  } catch (error) {
    bar.stop();
    if (!(error instanceof AppError)) throw error;
    err.write(`${error.message}\n`);
    return 1;
  }
  bar.stop();

  out.write(
    `imported ${path.basename(options.file)} into ${workspace.name} (${workspace.slug}): ` +
      `${result.rows} rows · ${result.created} created · ${result.updated} updated · ` +
      `${result.unchanged} unchanged · ${result.failed} failed\n`,
  );
  for (const error of result.errors)
    out.write(
      `  ${format === 'csv' ? 'line' : 'row'} ${error.row}${error.sku ? ` (${error.sku})` : ''}: ${error.message}\n`,
    );
  if (result.errorsTruncated) out.write(`  … and ${result.failed - result.errors.length} more failed rows\n`);
  if (result.aborted) out.write(`stopped early: ${result.aborted}\n`);
  return result.failed > 0 || result.aborted ? 1 : 0;
}
