import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../../..');
const bin = path.join(root, 'bin/switchboard.js');
const example = path.join(root, 'examples/products.csv');
let dataDir: string;

// The real command line on an embedded database in a temp data dir, as an operator runs it.
function env() {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    SWITCHBOARD_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
  };
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function switchboard(...args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { env: env(), cwd: root });
    return { code: 0, stdout, stderr };
  } catch (error) {
    // execFile rejects on a non-zero exit with the code and the output on the error.
    if (
      typeof error === 'object' &&
      error !== null &&
      'code' in error &&
      'stdout' in error &&
      'stderr' in error
    )
      return { code: Number(error.code), stdout: String(error.stdout), stderr: String(error.stderr) };
    throw error;
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'switchboard-import-'));
  expect(
    (await switchboard('user', 'create', '--email', 'shop@example.com', '--password', 'long enough pw')).code,
  ).toBe(0);
  const workspace = await switchboard(
    'workspace',
    'create',
    '--name',
    'Mebel Shop',
    '--owner',
    'shop@example.com',
    '--currency',
    'RUB',
  );
  expect(workspace.stdout).toContain('slug=mebel-shop');
}, 120_000);
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

describe('switchboard import products', () => {
  it('imports the example CSV, prints the summary, and counts a second run as unchanged', async () => {
    const first = await switchboard('import', 'products', example, '--workspace', 'mebel-shop');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(
      'imported products.csv into Mebel Shop (mebel-shop): 30 rows · 30 created',
    );
    const second = await switchboard('import', 'products', example, '--workspace', 'mebel-shop');
    expect(second.stdout).toContain('30 rows · 0 created · 0 updated · 30 unchanged · 0 failed');
  }, 120_000);

  it('prints the row errors and exits 1 when a row failed; JSON chosen by the extension', async () => {
    const file = path.join(dataDir, 'broken.json');
    writeFileSync(
      file,
      JSON.stringify([
        { sku: 'SOFA-001', name: 'Диван Честер / Chester sofa', price: 119900 },
        { sku: 'NEW-1', name: 'New shelf', price: 'cheap' },
      ]),
    );
    const result = await switchboard('import', 'products', file, '--workspace', 'mebel-shop');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('2 rows · 0 created · 1 updated · 0 unchanged · 1 failed');
    expect(result.stdout).toContain('row 2 (NEW-1): price: not a number ("cheap")');
  }, 120_000);

  it('refuses an unknown workspace and an unknown extension', async () => {
    const missing = await switchboard('import', 'products', example, '--workspace', 'no-such-shop');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no workspace no-such-shop');
    const file = path.join(dataDir, 'products.xml');
    writeFileSync(file, '<products/>');
    const unknown = await switchboard('import', 'products', file, '--workspace', 'mebel-shop');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--format');
  }, 120_000);
});
