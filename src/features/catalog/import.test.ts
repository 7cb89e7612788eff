import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../testkit/src/start-app.ts';
import { addMember, createTestWorkspace, signUp, type TestUser } from '../../../testkit/src/users.ts';
import { findProductBySku, searchProducts } from './service.ts';

let app: TestApp;
let owner: TestUser;

beforeAll(async () => {
  app = await startTestApp();
  owner = await signUp(app);
});
afterAll(async () => {
  await app?.close();
});

const example = readFileSync(path.resolve(import.meta.dirname, '../../../examples/products.csv'), 'utf8');

async function importBody(workspaceId: string, body: string | Buffer, contentType: string) {
  const response = await fetch(`${app.url}/api/workspaces/${workspaceId}/products/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${owner.token}`, 'content-type': contentType },
    body,
  });
  const json = objectOf(await response.json());
  return { status: response.status, json };
}

describe('POST /api/workspaces/:ws/products/import', () => {
  it('imports the example catalog, and importing it again changes nothing', async () => {
    const ws = await createTestWorkspace(app, owner, 'Example shop');
    const first = await importBody(ws, example, 'text/csv; charset=utf-8');
    expect(first.status).toBe(200);
    expect(first.json).toEqual({
      rows: 30,
      created: 30,
      updated: 0,
      unchanged: 0,
      failed: 0,
      errors: [],
      errorsTruncated: false,
      aborted: null,
    });
    const sofa = await findProductBySku(app.ctx, ws, 'sofa-001');
    expect(sofa).toMatchObject({
      sku: 'SOFA-001',
      price: 129900,
      currency: 'RUB',
      category: 'sofas',
      available: true,
      attributes: { material: 'leather', color: 'brown' },
    });
    const cheapSofas = await searchProducts(app.ctx, ws, { q: 'диван', priceMax: 150000, available: true });
    expect(cheapSofas.items.length).toBeGreaterThanOrEqual(3);

    const again = await importBody(ws, example, 'text/csv');
    expect(again.json).toMatchObject({ rows: 30, created: 0, updated: 0, unchanged: 30, failed: 0 });

    const audit = await app.api(`/api/workspaces/${ws}/audit?action=product.import`, { token: owner.token });
    expect(audit.json.items).toEqual([
      expect.objectContaining({ diff: expect.objectContaining({ unchanged: { after: 30 } }) }),
      expect.objectContaining({ diff: expect.objectContaining({ created: { after: 30 } }) }),
    ]);
  });

  it('reports bad rows with their line and SKU, and stores the good ones', async () => {
    const ws = await createTestWorkspace(app, owner, 'Messy shop');
    const csv = [
      'sku,name,price,available',
      'OK-1,Good chair,1000,yes',
      'BAD-1,Negative,-5,yes',
      ',No sku,10,yes',
      'BAD-2,Wordy price,ten roubles,yes',
      'BAD-3,Too,many,columns,here',
      'OK-2,"Quoted, with comma",2 500,нет',
      'BAD-4,Unsure,10,maybe',
      'OK-3,Last one,"1 299,50",',
    ].join('\n');
    const result = await importBody(ws, csv, 'text/csv');
    expect(result.status).toBe(200);
    expect(result.json).toMatchObject({ rows: 8, created: 3, updated: 0, failed: 5 });
    expect(result.json.errors).toEqual([
      { row: 3, sku: 'BAD-1', message: expect.stringContaining('price') },
      { row: 4, sku: null, message: expect.stringContaining('sku') },
      { row: 5, sku: 'BAD-2', message: expect.stringContaining('price: not a number') },
      { row: 6, sku: 'BAD-3', message: 'Expected 4 columns, found 5' },
      { row: 8, sku: 'BAD-4', message: expect.stringContaining('available') },
    ]);
    expect(await findProductBySku(app.ctx, ws, 'OK-2')).toMatchObject({
      name: 'Quoted, with comma',
      price: 2500,
      available: false,
    });
    expect(await findProductBySku(app.ctx, ws, 'OK-3')).toMatchObject({ price: 1299.5, available: true });
    expect(await findProductBySku(app.ctx, ws, 'BAD-1')).toBeNull();
  });

  it('reads semicolon-separated CSV with Russian column names', async () => {
    const ws = await createTestWorkspace(app, owner, 'Russian shop');
    const csv = '\uFEFFАртикул;Название;Цена;Категория;Цвет\nKR-1;Кресло «Уют»;12 990;кресла;серый\n';
    const result = await importBody(ws, csv, 'text/csv');
    expect(result.json).toMatchObject({ created: 1, failed: 0 });
    expect(await findProductBySku(app.ctx, ws, 'kr-1')).toMatchObject({
      name: 'Кресло «Уют»',
      price: 12990,
      category: 'кресла',
      attributes: { Цвет: 'серый' },
    });
  });

  it('refuses a CSV without the required columns with 400 and stores nothing', async () => {
    const ws = await createTestWorkspace(app, owner, 'Headerless shop');
    const result = await importBody(ws, 'title,cost\nA,1\n', 'text/csv');
    expect(result.status).toBe(400);
    expect(JSON.stringify(result.json)).toContain('missing: sku, price');
    expect((await searchProducts(app.ctx, ws, {})).items).toEqual([]);
  });

  it('imports a JSON array and NDJSON, updating by SKU and recording price changes as source import', async () => {
    const ws = await createTestWorkspace(app, owner, 'Json shop');
    const items = [
      { sku: 'J-1', name: 'Json sofa', price: 100000, currency: 'RUB', attributes: { seats: 3 } },
      { sku: 'J-2', name: 'Json table', price: '25 000', category: 'tables' },
      { sku: 'J-3', price: 5 },
      'not an object',
    ];
    const result = await importBody(ws, JSON.stringify(items, null, 2), 'application/json');
    expect(result.status).toBe(200);
    expect(result.json).toMatchObject({ rows: 4, created: 2, failed: 2 });
    expect(result.json.errors).toEqual([
      { row: 3, sku: 'J-3', message: expect.stringContaining('name') },
      { row: 4, sku: null, message: 'Expected an object' },
    ]);

    const ndjson = [
      JSON.stringify({ sku: 'j-1', name: 'Json sofa', price: 90000 }),
      '',
      JSON.stringify({ sku: 'J-2', name: 'Json table', price: 25000, category: 'tables' }),
      '{ broken',
    ].join('\n');
    const second = await importBody(ws, ndjson, 'application/x-ndjson');
    expect(second.json).toMatchObject({ rows: 3, created: 0, updated: 1, unchanged: 1, failed: 1 });
    expect(second.json.errors).toEqual([{ row: 4, sku: null, message: 'Malformed JSON line' }]);
    const sofa = await findProductBySku(app.ctx, ws, 'J-1');
    // Fields the input did not name keep their values.
    expect(sofa).toMatchObject({ sku: 'j-1', price: 90000, currency: 'RUB', attributes: { seats: 3 } });
    const history = await app.api(`/api/workspaces/${ws}/products/${sofa?.id}/price-history`, {
      token: owner.token,
    });
    expect(history.json.items).toEqual([
      expect.objectContaining({ oldPrice: 100000, newPrice: 90000, source: 'import' }),
      expect.objectContaining({ oldPrice: null, newPrice: 100000, source: 'import' }),
    ]);
  });

  it('streams a large CSV in batches and reports a truncated JSON array as aborted after the good items', async () => {
    const ws = await createTestWorkspace(app, owner, 'Big shop');
    const lines = ['sku,name,price,category'];
    for (let index = 1; index <= 3000; index++)
      lines.push(`BIG-${index},Товар номер ${index} / Item ${index},${1000 + index},bulk`);
    const big = await importBody(ws, lines.join('\n'), 'text/csv');
    expect(big.json).toMatchObject({ rows: 3000, created: 3000, failed: 0, aborted: null });
    expect(await findProductBySku(app.ctx, ws, 'big-2999')).toMatchObject({ price: 3999 });

    const truncated = '[{"sku":"T-1","name":"Kept","price":1},{"sku":"T-2","name":"Lo';
    const cut = await importBody(ws, truncated, 'application/json');
    expect(cut.status).toBe(200);
    expect(cut.json).toMatchObject({ created: 1, aborted: expect.stringContaining('ends early') });
    expect(await findProductBySku(app.ctx, ws, 'T-1')).not.toBeNull();
  });

  it('caps the reported errors but keeps the counts exact', async () => {
    const ws = await createTestWorkspace(app, owner, 'Broken shop');
    const lines = ['sku,name,price'];
    for (let index = 0; index < 150; index++) lines.push(`E-${index},Broken,abc`);
    const result = await importBody(ws, lines.join('\n'), 'text/csv');
    expect(result.json).toMatchObject({ rows: 150, failed: 150, errorsTruncated: true });
    expect(result.json.errors).toHaveLength(100);
  });

  it('answers 415 for other content types, 403 for an operator and 404 for a stranger', async () => {
    const ws = await createTestWorkspace(app, owner, 'Typed shop');
    const xml = await importBody(ws, '<products/>', 'application/xml');
    expect(xml.status).toBe(415);
    expect(xml.json.error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    const operator = await addMember(app, owner, ws, 'operator');
    const stranger = await signUp(app);
    for (const [user, status] of [
      [operator, 403],
      [stranger, 404],
    ] as const) {
      const refused = await fetch(`${app.url}/api/workspaces/${ws}/products/import`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.token}`, 'content-type': 'text/csv' },
        body: example,
      });
      expect(refused.status).toBe(status);
    }
    expect((await searchProducts(app.ctx, ws, {})).items).toEqual([]);
  });
});

function objectOf(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? Object.fromEntries(Object.entries(value)) : {};
}
