import { describe, expect, it } from 'vitest';
import { generateApi, readCommittedApi } from './openapi-dump.ts';

describe('generateApi', () => {
  it('matches the committed OpenAPI document and admin client types (run `npm run api:generate` after changing routes)', async () => {
    const fresh = await generateApi();
    const committed = readCommittedApi();
    // Compared parsed first: the assertion then names the paths that drifted.
    expect(Object.keys(JSON.parse(committed.json).paths).sort()).toEqual(
      Object.keys(JSON.parse(fresh.json).paths).sort(),
    );
    expect(committed.json === fresh.json, 'admin/src/api/openapi.json is stale').toBe(true);
    expect(committed.types === fresh.types, 'admin/src/api/schema.d.ts is stale').toBe(true);
  }, 60_000);
});
