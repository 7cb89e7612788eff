import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../testkit/src/start-app.ts';
import { addMember, createTestWorkspace, signUp, type TestUser } from '../../../testkit/src/users.ts';
import { findProductBySku, getProduct, searchProducts } from './service.ts';

let app: TestApp;
let owner: TestUser;
let workspaceId: string;

beforeAll(async () => {
  app = await startTestApp({ env: { PUBLIC_URL: 'https://shop.example.com' } });
  owner = await signUp(app);
  workspaceId = await createTestWorkspace(app, owner, 'Catalog shop');
});
afterAll(async () => {
  await app?.close();
});

const products = (ws = workspaceId) => `/api/workspaces/${ws}/products`;

async function create(json: Record<string, unknown>, ws = workspaceId, token = owner.token) {
  const response = await app.api(products(ws), { method: 'POST', token, json });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.json;
}

async function freshWorkspace(name: string) {
  return createTestWorkspace(app, owner, name);
}

function skus(body: Record<string, unknown>): string[] {
  const items = Array.isArray(body.items) ? body.items : [];
  return items.map((item: unknown) =>
    typeof item === 'object' && item !== null && 'sku' in item ? String(item.sku) : '',
  );
}

describe('products CRUD', () => {
  it('creates a product with the workspace currency by default, reads, updates and deletes it', async () => {
    const created = await create({
      sku: 'SOFA-100',
      name: 'Chester sofa',
      description: 'Deep buttoned',
      price: 129900,
      category: 'sofas',
      attributes: { color: 'brown' },
    });
    expect(created).toMatchObject({
      sku: 'SOFA-100',
      price: 129900,
      currency: 'USD',
      available: true,
      imageUrl: null,
      attributes: { color: 'brown' },
    });
    const id = String(created.id);

    const read = await app.api(`${products()}/${id}`, { token: owner.token });
    expect(read.status).toBe(200);
    expect(read.json).toEqual(created);

    const patched = await app.api(`${products()}/${id}`, {
      method: 'PATCH',
      token: owner.token,
      json: { price: 119900.5, available: false, category: 'Sofas' },
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ price: 119900.5, available: false, category: 'Sofas' });

    expect(await getProduct(app.ctx, workspaceId, id)).toMatchObject({ price: 119900.5 });
    expect(await findProductBySku(app.ctx, workspaceId, 'sofa-100')).toMatchObject({ id });

    const removed = await app.api(`${products()}/${id}`, { method: 'DELETE', token: owner.token });
    expect(removed.status).toBe(204);
    expect((await app.api(`${products()}/${id}`, { token: owner.token })).status).toBe(404);
    expect(await getProduct(app.ctx, workspaceId, id)).toBeNull();

    const audit = await app.api(`/api/workspaces/${workspaceId}/audit?targetId=${id}`, {
      token: owner.token,
    });
    const actions = (Array.isArray(audit.json.items) ? audit.json.items : []).map((item: unknown) =>
      typeof item === 'object' && item !== null && 'action' in item ? item.action : undefined,
    );
    expect(actions).toEqual(['product.delete', 'product.update', 'product.create']);
  });

  it('refuses a SKU that exists in another case with 409, on create and on rename', async () => {
    await create({ sku: 'TBL-100', name: 'Table', price: 100 });
    const other = await create({ sku: 'TBL-101', name: 'Other table', price: 100 });
    const duplicate = await app.api(products(), {
      method: 'POST',
      token: owner.token,
      json: { sku: 'tbl-100', name: 'Copy', price: 1 },
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.json.error).toMatchObject({ code: 'CONFLICT' });
    const rename = await app.api(`${products()}/${String(other.id)}`, {
      method: 'PATCH',
      token: owner.token,
      json: { sku: 'Tbl-100' },
    });
    expect(rename.status).toBe(409);
  });

  it('answers 400 VALIDATION_ERROR for bad fields', async () => {
    const bad: Array<Record<string, unknown>> = [
      { name: 'No sku', price: 1 },
      { sku: 'A-1', name: 'Negative', price: -1 },
      { sku: 'A-1', name: 'Too precise', price: 1.234 },
      { sku: 'A 1', name: 'Space in SKU', price: 1 },
      { sku: 'A-1', name: 'Currency', price: 1, currency: 'RUBLES' },
      { sku: 'A-1', name: '', price: 1 },
      { sku: 'A-1', name: 'Image', price: 1, imageUrl: 'javascript:alert(1)' },
      { sku: 'A-1', name: 'Unknown field', price: 1, colour: 'red' },
      { sku: 'A-1', name: 'Price as text', price: '100' },
    ];
    for (const json of bad) {
      const response = await app.api(products(), { method: 'POST', token: owner.token, json });
      expect(response.status, JSON.stringify(json)).toBe(400);
      expect(response.json.error).toMatchObject({ code: 'VALIDATION_ERROR' });
    }
  });

  it('lets a viewer read but not write, and an admin write', async () => {
    const viewer = await addMember(app, owner, workspaceId, 'viewer');
    const admin = await addMember(app, owner, workspaceId, 'admin');
    expect((await app.api(products(), { token: viewer.token })).status).toBe(200);
    const refused = await app.api(products(), {
      method: 'POST',
      token: viewer.token,
      json: { sku: 'V-1', name: 'Viewer', price: 1 },
    });
    expect(refused.status).toBe(403);
    await create({ sku: 'ADM-1', name: 'By admin', price: 1 }, workspaceId, admin.token);
  });

  it('keeps the price history: creation, then each change, newest first, paginated', async () => {
    const product = await create({ sku: 'HIST-1', name: 'History lamp', price: 1000, currency: 'rub' });
    expect(product.currency).toBe('RUB');
    const url = `${products()}/${String(product.id)}`;
    for (const price of [900, 900, 850]) {
      const response = await app.api(url, { method: 'PATCH', token: owner.token, json: { price } });
      expect(response.status).toBe(200);
    }
    await app.api(url, { method: 'PATCH', token: owner.token, json: { name: 'Renamed lamp' } });
    const history = await app.api(`${url}/price-history`, { token: owner.token });
    expect(history.status).toBe(200);
    expect(history.json.items).toEqual([
      expect.objectContaining({ oldPrice: 900, newPrice: 850, currency: 'RUB', source: 'api' }),
      expect.objectContaining({ oldPrice: 1000, newPrice: 900, source: 'api' }),
      expect.objectContaining({ oldPrice: null, newPrice: 1000, source: 'api' }),
    ]);
    const first = await app.api(`${url}/price-history?limit=2`, { token: owner.token });
    expect(first.json.items).toHaveLength(2);
    const rest = await app.api(
      `${url}/price-history?limit=2&cursor=${encodeURIComponent(String(first.json.nextCursor))}`,
      { token: owner.token },
    );
    expect(rest.json.items).toEqual([expect.objectContaining({ oldPrice: null, newPrice: 1000 })]);
    expect(rest.json.nextCursor).toBeNull();
  });
});

describe('searchProducts', () => {
  let ws: string;

  beforeAll(async () => {
    ws = await freshWorkspace('Search shop');
    const rows: Array<Record<string, unknown>> = [
      { sku: 'SOFA-001', name: 'Chester sofa', price: 129900, category: 'sofas' },
      { sku: 'SOFA-002', name: 'Угловой диван Оскар', price: 145000, category: 'sofas' },
      { sku: 'SOFA-003', name: 'Modular sofa Cloud', price: 289000, category: 'sofas' },
      { sku: 'SOFA-004', name: 'Диван-кровать Милан', price: 74990, category: 'sofas', available: false },
      { sku: 'TBL-001', name: 'Обеденный стол Тоскана', price: 84900, category: 'tables' },
      { sku: 'CHR-001', name: 'Office chair ErgoPro', price: 32900, category: 'chairs' },
      {
        sku: 'LMP-001',
        name: 'Arc floor lamp',
        description: 'Goes well next to a sofa',
        price: 15900,
        category: 'lighting',
      },
    ];
    for (const row of rows) await create({ currency: 'RUB', ...row }, ws);
  });

  const search = (query: string) => app.api(`${products(ws)}/search?${query}`, { token: owner.token });

  it('finds by words, stems and prefixes in Latin and Cyrillic', async () => {
    const sofas = skus((await search('q=sofas')).json);
    expect(sofas.slice(0, 2).sort()).toEqual(['SOFA-001', 'SOFA-003']);
    expect(sofas).toContain('LMP-001');
    const russian = skus((await search(`q=${encodeURIComponent('диваны')}`)).json);
    expect(russian.slice(0, 2).sort()).toEqual(['SOFA-002', 'SOFA-004']);
    const prefix = skus((await search(`q=${encodeURIComponent('обеден')}`)).json);
    expect(prefix[0]).toBe('TBL-001');
  });

  it('tolerates typos ("sofaa", "дивн", "chestr")', async () => {
    const latin = skus((await search('q=sofaa')).json);
    expect(latin).toEqual(expect.arrayContaining(['SOFA-001', 'SOFA-003']));
    const cyrillic = skus((await search(`q=${encodeURIComponent('дивн')}`)).json);
    expect(cyrillic).toEqual(expect.arrayContaining(['SOFA-002', 'SOFA-004']));
    expect(skus((await search('q=chestr')).json)[0]).toBe('SOFA-001');
  });

  it('ranks the name match above a mention in the description, and an exact SKU first', async () => {
    const hits = (await search('q=sofa')).json.items;
    const ranked = Array.isArray(hits) ? hits : [];
    const order = ranked.map((hit: { sku: string }) => hit.sku);
    expect(order.indexOf('LMP-001')).toBeGreaterThan(order.indexOf('SOFA-001'));
    const scores = ranked.map((hit: { score: number }) => hit.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(skus((await search('q=sofa-003')).json)[0]).toBe('SOFA-003');
  });

  it('finds a product by the number in its SKU (the parser reads "SOFA-002" as "sofa" and "-002")', async () => {
    expect(skus((await search('q=002')).json)).toEqual(['SOFA-002']);
    expect(skus((await search(`q=${encodeURIComponent('SOFA 004')}`)).json)).toEqual(['SOFA-004']);
  });

  it('falls back to most of the words, then to any of them, and pages within that tier', async () => {
    // No product is velvet: the two words that do match win, and nothing that has only one.
    expect(skus((await search(`q=${encodeURIComponent('chester sofa velvet')}`)).json)).toEqual(['SOFA-001']);
    const q = encodeURIComponent('sofa zzqxv');
    const all = skus((await search(`q=${q}&limit=100`)).json);
    expect([...all].sort()).toEqual(['LMP-001', 'SOFA-001', 'SOFA-002', 'SOFA-003', 'SOFA-004']);
    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const suffix: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = await search(`q=${q}&limit=2${suffix}`);
      walked.push(...skus(page.json));
      cursor = typeof page.json.nextCursor === 'string' ? page.json.nextCursor : null;
    } while (cursor);
    expect(walked).toEqual(all);
  });

  it('applies category, price range and availability filters, with and without a query', async () => {
    // "sofa" is in every sofa's SKU, and in the lamp's description.
    expect(skus((await search('q=sofa&price_max=150000')).json).sort()).toEqual([
      'LMP-001',
      'SOFA-001',
      'SOFA-002',
      'SOFA-004',
    ]);
    expect(skus((await search('q=sofa&price_max=150000&available=true&category=sofas')).json).sort()).toEqual(
      ['SOFA-001', 'SOFA-002'],
    );
    expect(skus((await search('category=SOFAS&price_min=100000&price_max=150000')).json).sort()).toEqual([
      'SOFA-001',
      'SOFA-002',
    ]);
    expect(skus((await search('category=sofas&available=false')).json)).toEqual(['SOFA-004']);
    const list = await app.api(`${products(ws)}?category=sofas&available=true`, { token: owner.token });
    expect(skus(list.json).sort()).toEqual(['SOFA-001', 'SOFA-002', 'SOFA-003']);
    expect((await search('price_min=-1')).status).toBe(400);
    expect((await search('available=maybe')).status).toBe(400);
  });

  it('lists newest first without a query and pages through ranked results without gaps', async () => {
    const newest = skus((await search('')).json);
    expect(newest[0]).toBe('LMP-001');
    expect(newest).toHaveLength(7);
    const all = skus((await search('q=sofa&limit=100')).json);
    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const suffix: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = await search(`q=sofa&limit=2${suffix}`);
      expect(page.status).toBe(200);
      walked.push(...skus(page.json));
      cursor = typeof page.json.nextCursor === 'string' ? page.json.nextCursor : null;
    } while (cursor);
    expect(walked).toEqual(all);
    expect((await search('q=sofa&cursor=garbage')).status).toBe(400);
  });

  it('is scoped to the workspace and callable as a function', async () => {
    const other = await freshWorkspace('Other shop');
    const result = await searchProducts(app.ctx, other, { q: 'sofa' });
    expect(result).toEqual({ items: [], nextCursor: null });
    const mine = await searchProducts(app.ctx, ws, { q: 'диван', priceMax: 150000, available: true });
    expect(mine.items.map((hit) => hit.sku)).toEqual(['SOFA-002']);
    expect(mine.items[0]?.score).toBeGreaterThan(0);
  });
});

describe('product images', () => {
  // The smallest valid PNG: 1×1 transparent pixel.
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
    'base64',
  );

  async function upload(id: string, body: Buffer, type: string) {
    const response = await fetch(`${app.url}${products()}/${id}/image`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${owner.token}`, 'content-type': type },
      body,
    });
    return { status: response.status, json: objectOf(await response.json()) };
  }

  it('stores an uploaded PNG and serves it publicly at a content-hashed URL under PUBLIC_URL', async () => {
    const product = await create({ sku: 'IMG-1', name: 'Pictured', price: 10 });
    const uploaded = await upload(String(product.id), png, 'image/png');
    expect(uploaded.status).toBe(200);
    const imageUrl = String(uploaded.json.imageUrl);
    expect(imageUrl).toMatch(
      new RegExp(`^https://shop\\.example\\.com/media/products/${String(product.id)}/[0-9a-f]{32}\\.png$`),
    );
    const served = await fetch(`${app.url}${new URL(imageUrl).pathname}`);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(served.headers.get('cache-control')).toContain('immutable');
    expect(Buffer.from(await served.arrayBuffer()).equals(png)).toBe(true);
    // The same bytes give the same URL.
    expect((await upload(String(product.id), png, 'image/png')).json.imageUrl).toBe(imageUrl);
  });

  it('refuses bytes that are not the declared image type, other types, and oversized bodies', async () => {
    const product = await create({ sku: 'IMG-2', name: 'Not pictured', price: 10 });
    const id = String(product.id);
    expect((await upload(id, Buffer.from('not a png at all'), 'image/png')).status).toBe(400);
    const gif = await upload(id, Buffer.from('GIF89a'), 'image/gif');
    expect(gif.status).toBe(415);
    expect(gif.json.error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    const huge = Buffer.concat([png, Buffer.alloc(6 * 1024 * 1024)]);
    const tooLarge = await upload(id, huge, 'image/png');
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.json.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect((await fetch(`${app.url}/media/products/${id}/${'0'.repeat(32)}.png`)).status).toBe(404);
  });
});

function objectOf(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? Object.fromEntries(Object.entries(value)) : {};
}
