import { describe, expect, it } from 'vitest';
import { ConfigError, configDocs, loadConfig } from './config.ts';

const noDotenv = '/nonexistent-dir-for-dotenv';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({}, noDotenv);
    expect(config.PORT).toBe(3000);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.TELEGRAM_API_ROOT).toBe('https://api.telegram.org');
    expect(config.dataDir).toBe('/nonexistent-dir-for-dotenv/data');
  });

  it('names every bad variable in one error', () => {
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', SWITCHBOARD_SECRET: 'short' }, noDotenv);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = error instanceof Error ? error.message : '';
      expect(message).toContain('PORT');
      expect(message).toContain('DATABASE_URL');
      expect(message).toContain('SWITCHBOARD_SECRET');
    }
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ PUBLIC_URL: '', DATABASE_URL: '' }, noDotenv).PUBLIC_URL).toBeUndefined();
  });

  it('parses list and boolean variables', () => {
    const config = loadConfig(
      { CORS_ORIGINS: 'https://a.example, https://b.example', SWITCHBOARD_ALLOW_SIGNUP: 'false' },
      noDotenv,
    );
    expect(config.CORS_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
    expect(config.SWITCHBOARD_ALLOW_SIGNUP).toBe(false);
  });
});

describe('configDocs', () => {
  it('describes every variable', () => {
    for (const row of configDocs()) expect(row.description, row.name).not.toBe('');
  });
});

describe('README configuration table', () => {
  it('lists every variable exactly as src/config.ts defines it (regenerate: npx tsx scripts/config-table.ts)', async () => {
    const { readFileSync } = await import('node:fs');
    const { configTable } = await import('../scripts/config-table.ts');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(configTable());
  });
});
