import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = path.resolve(import.meta.dirname, '../bin/switchboard.js');
let dataDir: string;

// These run the real command line against an embedded database in a temp data dir, the
// way `npm start` does on a fresh clone.
function env(extra: Record<string, string> = {}) {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    SWITCHBOARD_DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    ...extra,
  };
}

beforeAll(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'switchboard-cli-'));
});
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

function waitForExit(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

describe('switchboard start', () => {
  it('serves /health on the embedded database, prints the setup URL, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [bin, 'start', '--port', '0'], { env: env({ HOST: '127.0.0.1' }) });
    let output = '';
    const listening = new Promise<string>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match?.[1]) resolve(match[1]);
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
    });
    try {
      const url = await listening;
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', checks: { db: { ok: true } } });
      expect(output).toMatch(/\/setup\?token=/);
      child.kill('SIGTERM');
      expect(await waitForExit(child)).toBe(0);
      expect(output).toContain('"msg":"stopped"');
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);

  it('refuses to start with a bad variable and names it', async () => {
    const failed = await run(process.execPath, [bin, 'start'], { env: env({ PORT: 'eighty' }) }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed).toMatchObject({ code: 2 });
    expect('stderr' in failed ? failed.stderr : '').toContain('PORT');
  }, 30_000);
});

describe('switchboard user / workspace', () => {
  it('creates a super-admin and a workspace they own, then resets the password', async () => {
    await run(process.execPath, [bin, 'migrate'], { env: env() });
    const created = await run(
      process.execPath,
      [bin, 'user', 'create', '--email', 'Boss@Example.com', '--password', 'long enough pw', '--super-admin'],
      { env: env() },
    );
    expect(created.stdout).toMatch(/created user boss@example\.com .*\[super-admin\]/);
    const workspace = await run(
      process.execPath,
      [
        bin,
        'workspace',
        'create',
        '--name',
        'Cli Shop',
        '--owner',
        'boss@example.com',
        '--timezone',
        'Europe/Moscow',
      ],
      { env: env() },
    );
    expect(workspace.stdout).toMatch(/created workspace Cli Shop .* slug=cli-shop/);
    const reset = await run(
      process.execPath,
      [bin, 'user', 'reset-password', '--email', 'boss@example.com', '--password', 'another long pw'],
      { env: env() },
    );
    expect(reset.stdout).toContain('password of boss@example.com changed');
  }, 60_000);
});
