import { randomUUID } from 'node:crypto';
import { and, eq, notExists, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiInit,
  type ApiResponse,
  startTestApp,
  type TestApp,
} from '../../../testkit/src/start-app.ts';
import { addMember, createTestWorkspace, signUp, type TestUser } from '../../../testkit/src/users.ts';
import { auditLog } from '../audit/schema.ts';
import { users } from '../identity/schema.ts';
import { memberships, workspaces } from '../workspaces/schema.ts';

/**
 * Property tests of the auth and workspace endpoints with hostile input. Whatever arrives —
 * random JSON, broken JSON, wrong content types, junk ids, junk credentials, oversized bodies —
 * the answer is a 4xx with the error shape (never a 5xx, never a success for input that must
 * fail), and nothing is left half-written. Fixed seed: a failure replays identically.
 */

const SEED = 4242;
const run = (numRuns: number) => ({ seed: SEED, numRuns });

let app: TestApp;
let owner: TestUser;
let member: TestUser;
let workspaceId = '';
let usersBefore = 0;
let workspacesBefore = 0;
/** Successes the properties allowed (valid input can be generated too); the invariants count them. */
let registered = 0;
let workspacesCreated = 0;

async function countOf(table: typeof users | typeof workspaces): Promise<number> {
  const [row] = await app.ctx.db.select({ count: sql<number>`count(*)::int` }).from(table);
  return row?.count ?? 0;
}

beforeAll(async () => {
  app = await startTestApp();
  owner = await signUp(app);
  workspaceId = await createTestWorkspace(app, owner, 'Fuzzed');
  member = await addMember(app, owner, workspaceId, 'operator');
  usersBefore = await countOf(users);
  workspacesBefore = await countOf(workspaces);
});
afterAll(async () => {
  await app?.close();
});

// ─── Checks ──────────────────────────────────────────────────────────────────

function describeCall(label: string, response: ApiResponse) {
  return `${label} → ${response.status} ${JSON.stringify(response.body)?.slice(0, 300)}`;
}

/** A refusal: 4xx with `{"error":{"code","message"}}`. */
function expectRefused(response: ApiResponse, label: string) {
  expect(response.status, describeCall(label, response)).toBeGreaterThanOrEqual(400);
  expect(response.status, describeCall(label, response)).toBeLessThan(500);
  expect(response.body, describeCall(label, response)).toMatchObject({
    error: { code: expect.any(String), message: expect.any(String) },
  });
}

/** Either a success (when the input happened to be valid) or a proper refusal — never a 5xx. */
function expectAnsweredOrRefused(response: ApiResponse, label: string) {
  if (response.status >= 200 && response.status < 300) return;
  expectRefused(response, label);
}

/** Whether a JSON parser takes the text (a leading byte-order mark is allowed, as the server does). */
function isJson(text: string): boolean {
  try {
    JSON.parse(text.replace(/^\uFEFF/, ''));
    return true;
  } catch {
    return false;
  }
}

function send(path: string, init: ApiInit & { rawJson?: string }) {
  const { rawJson, ...rest } = init;
  if (rawJson === undefined) return app.api(path, rest);
  return app.api(path, {
    ...rest,
    body: rawJson,
    headers: { 'content-type': 'application/json', ...rest.headers },
  });
}

/** A call template: `{ws}` is the fuzzed workspace, `{member}` its operator, `{id}` the junk under test. */
interface Endpoint {
  method: string;
  path: string;
  signedIn?: boolean;
  json?: unknown;
}

function pathOf(endpoint: Endpoint, id = '') {
  return endpoint.path.replace('{ws}', workspaceId).replace('{member}', member.id).replace('{id}', id);
}

function tokenOf(endpoint: Endpoint) {
  return endpoint.signedIn ? { token: owner.token } : {};
}

// ─── Generators ──────────────────────────────────────────────────────────────

/** Any text (well-formed UTF-16), often with control characters and NUL. */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
);
/** Text a field of that kind accepts, control characters and NUL included. */
const anyName = fc
  .oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }),
    fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 30 }),
  )
  .filter((name) => name.trim().length > 0);
const hugeText = fc
  .tuple(fc.integer({ min: 5_000, max: 120_000 }), fc.constantFrom('a', 'é', '😀', '\u0000', ' x'))
  .map(([length, unit]) => unit.repeat(length));
const wrongType = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
);
const deeplyNested = fc.tuple(fc.integer({ min: 20, max: 2_000 }), fc.boolean()).map(([depth, asArray]) => {
  let value: unknown = 'bottom';
  for (let level = 0; level < depth; level++) value = asArray ? [value] : { email: value };
  return value;
});
/** JSON values that are not what any endpoint wants at the top level, or are wildly off. */
const randomJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' }),
  fc.dictionary(anyText, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 }),
  deeplyNested,
  fc.record(
    { email: fc.oneof(wrongType, hugeText), password: fc.oneof(wrongType, hugeText) },
    { requiredKeys: [] },
  ),
);

const validEmail = fc.stringMatching(/^[a-z][a-z0-9]{0,11}$/).map((local) => `${local}@example.com`);
const validPassword = fc.string({ minLength: 8, maxLength: 40 });

/** What one body field accepts, and values it must refuse. */
interface Field {
  valid: fc.Arbitrary<unknown>;
  invalid: fc.Arbitrary<unknown>;
}

function field(valid: fc.Arbitrary<unknown>, invalid: fc.Arbitrary<unknown>): Field {
  return { valid, invalid };
}

type Fault =
  | { kind: 'replace'; name: string; value: unknown }
  | { kind: 'drop'; name: string }
  | { kind: 'extra'; key: string; value: unknown };

/**
 * Bodies that are valid, or valid but for exactly one fault (a field of the wrong type or
 * value, a required field missing, an unknown key) — then the call must fail. Half and half,
 * so both the refusals and the successes get exercised.
 */
function bodies(fields: Record<string, Field>, required: string[]) {
  const names = Object.keys(fields);
  const valid = fc.record(
    Object.fromEntries(names.map((name) => [name, fields[name]?.valid ?? fc.constant(null)])),
    { requiredKeys: required },
  );
  const faults: Array<fc.Arbitrary<Fault>> = [
    fc
      .constantFrom(...names)
      .chain((name) =>
        (fields[name]?.invalid ?? fc.constant(null)).map(
          (value): Fault => ({ kind: 'replace', name, value }),
        ),
      ),
    fc
      .tuple(
        fc.string({ minLength: 1, maxLength: 10 }).filter((key) => !names.includes(key)),
        fc.jsonValue({ maxDepth: 1 }),
      )
      .map(([key, value]): Fault => ({ kind: 'extra', key, value })),
  ];
  if (required.length > 0)
    faults.push(fc.constantFrom(...required).map((name): Fault => ({ kind: 'drop', name })));
  return fc.tuple(valid, fc.option(fc.oneof(...faults), { freq: 2, nil: undefined })).map(([base, fault]) => {
    const body: Record<string, unknown> = { ...base };
    if (fault?.kind === 'replace') body[fault.name] = fault.value;
    if (fault?.kind === 'drop') delete body[fault.name];
    // defineProperty: a generated key such as "__proto__" must become a plain own property.
    if (fault?.kind === 'extra')
      Object.defineProperty(body, fault.key, { value: fault.value, enumerable: true });
    return { body, mustFail: fault !== undefined };
  });
}

/** Path segments nobody would use as an id, including broken percent-encoding. */
const junkSegment = fc
  .oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).map(encodeURIComponent),
    fc.uuid().map((id) => id.toUpperCase()),
    fc.uuid(),
    fc
      .array(
        fc.constantFrom(
          '%',
          '%2',
          '%ZZ',
          '%E0%A4%A',
          '%00',
          '%2F',
          '%25',
          '%C0%AF',
          '%FF',
          'a',
          '-',
          '_',
          '%20',
          '~',
        ),
        {
          minLength: 1,
          maxLength: 8,
        },
      )
      .map((parts) => parts.join('')),
    fc.integer({ min: 190, max: 400 }).map((length) => 'x'.repeat(length)),
  )
  // Dot segments are resolved away by the URL parser before the request is sent.
  .filter((segment) => !/^(?:\.|%2e){1,2}$/i.test(segment));

const printable = fc.string({ maxLength: 60 });

// ─── Properties ──────────────────────────────────────────────────────────────

describe('POST /api/auth/login', () => {
  it('never signs anyone in for a random JSON body, and refuses with the error shape', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          randomJson,
          fc.record({ email: fc.constant(owner.email), password: printable }),
          fc.record({ email: validEmail, password: anyText }),
        ),
        async (body) => {
          const response = await app.api('/api/auth/login', { method: 'POST', json: body });
          expectRefused(response, `login ${JSON.stringify(body)?.slice(0, 120)}`);
        },
      ),
      run(40),
    );
  });
});

describe('POST /api/auth/register', () => {
  it('creates an account only for valid input, and otherwise refuses with the error shape', async () => {
    const body = bodies(
      {
        email: field(validEmail, fc.oneof(wrongType, anyText, hugeText)),
        password: field(validPassword, fc.oneof(wrongType, fc.string({ maxLength: 7 }), hugeText)),
        name: field(fc.oneof(fc.constant(''), anyName), fc.oneof(wrongType, hugeText)),
      },
      ['email', 'password'],
    );
    await fc.assert(
      fc.asyncProperty(body, async ({ body: json, mustFail }) => {
        const response = await app.api('/api/auth/register', { method: 'POST', json });
        const label = `register ${JSON.stringify(json).slice(0, 160)}`;
        if (mustFail) expectRefused(response, label);
        else expectAnsweredOrRefused(response, label);
        if (response.status === 201) registered += 1;
      }),
      run(30),
    );
  });
});

describe('POST /api/workspaces', () => {
  it('creates a workspace only for valid input, and otherwise refuses with the error shape', async () => {
    const body = bodies(
      {
        name: field(anyName, fc.oneof(wrongType, hugeText, fc.constant(''))),
        slug: field(
          fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,10}[a-z0-9]$/),
          fc.oneof(
            wrongType,
            anyText.filter((slug) => !/^[a-z0-9-]+$/.test(slug)),
          ),
        ),
        timezone: field(
          fc.constantFrom('UTC', 'Europe/Moscow', 'America/New_York'),
          fc.oneof(wrongType, fc.constantFrom('Mars/Olympus', 'utc+3', '')),
        ),
        currency: field(
          fc.constantFrom('RUB', 'USD', 'EUR'),
          fc.oneof(wrongType, fc.constantFrom('rub', 'RUBL', '$')),
        ),
        language: field(fc.constantFrom('en', 'ru'), fc.oneof(wrongType, fc.constantFrom('de', 'EN', ''))),
      },
      ['name'],
    );
    await fc.assert(
      fc.asyncProperty(body, async ({ body: json, mustFail }) => {
        const response = await app.api('/api/workspaces', { method: 'POST', token: member.token, json });
        const label = `create workspace ${JSON.stringify(json).slice(0, 160)}`;
        if (mustFail) expectRefused(response, label);
        else expectAnsweredOrRefused(response, label);
        if (response.status === 201) workspacesCreated += 1;
      }),
      run(30),
    );
  });
});

describe('PATCH /api/workspaces/:ws', () => {
  it('updates only for valid input, and otherwise refuses with the error shape', async () => {
    const body = fc.oneof(
      randomJson.map((json) => ({
        json,
        mustFail:
          typeof json !== 'object' || json === null || Array.isArray(json) || Object.keys(json).length > 0,
      })),
      bodies(
        {
          name: field(anyName, fc.oneof(wrongType, hugeText)),
          timezone: field(
            fc.constantFrom('UTC', 'Asia/Tokyo'),
            fc.oneof(wrongType, fc.constantFrom('Nowhere/City')),
          ),
          language: field(fc.constantFrom('en', 'ru'), wrongType),
        },
        [],
      ).map(({ body: json, mustFail }) => ({ json, mustFail })),
    );
    await fc.assert(
      fc.asyncProperty(body, async ({ json, mustFail }) => {
        const response = await app.api(`/api/workspaces/${workspaceId}`, {
          method: 'PATCH',
          token: owner.token,
          json,
        });
        const label = `patch workspace ${JSON.stringify(json)?.slice(0, 160)}`;
        if (mustFail) expectRefused(response, label);
        else expectAnsweredOrRefused(response, label);
      }),
      run(30),
    );
  });
});

describe('POST /api/workspaces/:ws/invitations and PATCH /api/workspaces/:ws/members/:userId', () => {
  it('refuse random bodies with the error shape', async () => {
    const target = fc.constantFrom<Endpoint>(
      { method: 'POST', path: '/api/workspaces/{ws}/invitations', signedIn: true },
      { method: 'PATCH', path: '/api/workspaces/{ws}/members/{member}', signedIn: true },
    );
    await fc.assert(
      fc.asyncProperty(target, randomJson, async (endpoint, json) => {
        const response = await app.api(pathOf(endpoint), {
          method: endpoint.method,
          ...tokenOf(endpoint),
          json,
        });
        expectRefused(response, `${endpoint.method} ${endpoint.path} ${JSON.stringify(json)?.slice(0, 160)}`);
      }),
      run(30),
    );
  });
});

describe('JSON body parsing', () => {
  const endpoints: Endpoint[] = [
    { method: 'POST', path: '/api/auth/login' },
    { method: 'POST', path: '/api/auth/register' },
    { method: 'POST', path: '/api/auth/password-reset' },
    { method: 'PATCH', path: '/api/auth/me', signedIn: true },
    { method: 'POST', path: '/api/workspaces', signedIn: true },
    { method: 'PATCH', path: '/api/workspaces/{ws}', signedIn: true },
    { method: 'POST', path: '/api/workspaces/{ws}/invitations', signedIn: true },
  ];

  it('answers malformed JSON text with 400 and the error shape', async () => {
    const truncatedJson = fc.jsonValue({ maxDepth: 3 }).chain((value) => {
      const text = JSON.stringify(value);
      return fc.integer({ min: 0, max: Math.max(0, text.length - 1) }).map((cut) => text.slice(0, cut));
    });
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 60 }),
      truncatedJson,
      fc.jsonValue({ maxDepth: 2 }).map((value) => `${JSON.stringify(value)}}garbage`),
      fc.constantFrom(
        '{"__proto__":{"admin":true}}',
        '{"constructor":{"prototype":{"x":1}}}',
        '\uFEFF{}',
        '{,}',
        "{'a':1}",
        'NaN',
        '',
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...endpoints), text, async (endpoint, rawJson) => {
        const response = await send(pathOf(endpoint), {
          method: endpoint.method,
          rawJson,
          ...tokenOf(endpoint),
        });
        const label = `${endpoint.method} ${endpoint.path} raw ${JSON.stringify(rawJson).slice(0, 120)}`;
        if (isJson(rawJson)) expectAnsweredOrRefused(response, label);
        else {
          expectRefused(response, label);
          expect(response.status, label).toBe(400);
        }
      }),
      run(40),
    );
  });

  it('answers bodies of other content types with a 4xx, even when they carry valid credentials', async () => {
    const contentType = fc.oneof(
      fc.constantFrom(
        'text/plain',
        'text/html',
        'application/xml',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=xyz',
        'application/octet-stream',
        'application/jsonp',
        'image/png',
      ),
      fc
        .tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.stringMatching(/^[a-z.+-]{1,12}$/))
        .map(([type, sub]) => `${type}/${sub}`)
        .filter((type) => !type.includes('json')),
    );
    const login = JSON.stringify({ email: owner.email, password: owner.password });
    await fc.assert(
      fc.asyncProperty(
        contentType,
        fc.oneof(fc.constant(login), fc.string({ maxLength: 100 })),
        async (type, body) => {
          const response = await app.api('/api/auth/login', {
            method: 'POST',
            body,
            headers: { 'content-type': type },
          });
          expectRefused(response, `login as ${type}`);
          const created = await app.api('/api/workspaces', {
            method: 'POST',
            token: owner.token,
            body: JSON.stringify({ name: 'Typed' }),
            headers: { 'content-type': type },
          });
          expectRefused(created, `create workspace as ${type}`);
        },
      ),
      run(20),
    );
  });

  it(`answers bodies over BODY_LIMIT_BYTES with 413 PAYLOAD_TOO_LARGE`, async () => {
    const limit = app.config.BODY_LIMIT_BYTES;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 64 * 1024 }),
        fc.constantFrom(...endpoints),
        async (extra, endpoint) => {
          const filler = 'a'.repeat(limit + extra);
          const response = await send(pathOf(endpoint), {
            method: endpoint.method,
            rawJson: `{"name":"${filler}"}`,
            ...tokenOf(endpoint),
          });
          expectRefused(response, `${endpoint.method} ${endpoint.path} with ${limit + extra} bytes`);
          expect(response.status).toBe(413);
          expect(response.json.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
        },
      ),
      run(4),
    );
  });
});

describe('path parameters', () => {
  it('answers junk ids in :ws and the other parameters with a 4xx and the error shape', async () => {
    const routes = fc.constantFrom<Endpoint>(
      { method: 'GET', path: '/api/workspaces/{id}' },
      { method: 'DELETE', path: '/api/workspaces/{id}' },
      { method: 'GET', path: '/api/workspaces/{id}/members' },
      { method: 'GET', path: '/api/workspaces/{id}/audit' },
      { method: 'PATCH', path: '/api/workspaces/{ws}/members/{id}', json: { role: 'viewer' } },
      { method: 'DELETE', path: '/api/workspaces/{ws}/invitations/{id}' },
      { method: 'DELETE', path: '/api/workspaces/{ws}/api-keys/{id}' },
      { method: 'GET', path: '/api/invitations/{id}' },
      { method: 'POST', path: '/api/invitations/{id}/accept' },
    );
    await fc.assert(
      fc.asyncProperty(routes, junkSegment, async (endpoint, id) => {
        const path = pathOf(endpoint, id);
        const json = endpoint.json === undefined ? {} : { json: endpoint.json };
        const response = await app.api(path, { method: endpoint.method, token: owner.token, ...json });
        expectRefused(response, `${endpoint.method} ${path.slice(0, 200)}`);
      }),
      run(40),
    );
    // The workspace survived the DELETEs with junk ids.
    expect((await app.api(`/api/workspaces/${workspaceId}`, { token: owner.token })).status).toBe(200);
  });
});

describe('Authorization header', () => {
  const junkAuthorization = fc.oneof(
    printable,
    printable.map((token) => `Bearer ${token}`),
    fc
      .integer({ min: 0, max: 400 })
      .map((cut) => `Bearer ${owner.token.slice(0, Math.min(cut, owner.token.length - 1))}`),
    fc
      .integer({ min: 1, max: 2 })
      .map((parts) => `Bearer ${owner.token.split('.').slice(0, parts).join('.')}`),
    fc.stringMatching(/^[A-Za-z0-9_-]{0,60}$/).map((secret) => `Bearer sb_${secret}`),
    fc.constantFrom(
      'Basic dXNlcjpwYXNz',
      'Bearer',
      'Bearer  ',
      'bearer',
      `Token ${'x'.repeat(20)}`,
      `Bearer ${'a'.repeat(5000)}`,
    ),
  );

  it('refuses junk credentials on signed-in and workspace routes with 401 and never lets a call through', async () => {
    const targets = fc.constantFrom<Endpoint>(
      { method: 'GET', path: '/api/auth/me' },
      { method: 'GET', path: '/api/workspaces/{ws}' },
      { method: 'POST', path: '/api/workspaces', json: { name: 'Should not exist' } },
      { method: 'PATCH', path: '/api/workspaces/{ws}', json: { name: 'Hijacked' } },
    );
    await fc.assert(
      fc.asyncProperty(
        targets,
        junkAuthorization,
        fc.boolean(),
        async (target, authorization, asApiKeyHeader) => {
          const headers: Record<string, string> =
            asApiKeyHeader && authorization ? { 'x-api-key': authorization } : { authorization };
          const json = target.json === undefined ? {} : { json: target.json };
          const response = await app.api(pathOf(target), { method: target.method, headers, ...json });
          const label = `${target.method} ${target.path} with ${JSON.stringify(headers).slice(0, 120)}`;
          expectRefused(response, label);
          expect(response.status, label).toBe(401);
          expect(response.json.error, label).toMatchObject({ code: 'UNAUTHENTICATED' });
        },
      ),
      run(40),
    );
    const workspace = await app.api(`/api/workspaces/${workspaceId}`, { token: owner.token });
    expect(workspace.json.name).not.toBe('Hijacked');
  });

  it('never makes a public route fail: the answer is the same as without the header', async () => {
    const plain = await app.api('/api/setup');
    const login = await app.api('/api/auth/login', { method: 'POST', json: {} });
    await fc.assert(
      fc.asyncProperty(junkAuthorization, async (authorization) => {
        expect((await app.api('/api/setup', { headers: { authorization } })).status).toBe(plain.status);
        expect(
          (await app.api('/api/auth/login', { method: 'POST', json: {}, headers: { authorization } })).status,
        ).toBe(login.status);
      }),
      run(15),
    );
  });
});

describe('database after the hostile traffic', () => {
  it('holds only accounts whose registration answered 201, each with its audit row', async () => {
    expect(await countOf(users)).toBe(usersBefore + registered);
    const [audited] = await app.ctx.db
      .select({ count: sql<number>`count(*)::int` })
      .from(users)
      .where(
        notExists(
          app.ctx.db
            .select({ id: auditLog.id })
            .from(auditLog)
            .where(and(eq(auditLog.action, 'user.create'), eq(auditLog.targetId, sql`${users.id}::text`))),
        ),
      );
    expect(audited?.count).toBe(0);
  });

  it('holds only workspaces whose creation answered 201, none without an owner', async () => {
    expect(await countOf(workspaces)).toBe(workspacesBefore + workspacesCreated);
    const ownerless = await app.ctx.db
      .select({ id: workspaces.id })
      .from(workspaces)
      .where(
        notExists(
          app.ctx.db
            .select({ userId: memberships.userId })
            .from(memberships)
            .where(and(eq(memberships.workspaceId, workspaces.id), eq(memberships.role, 'owner'))),
        ),
      );
    expect(ownerless).toEqual([]);
    // A random id never named a real workspace.
    expect((await app.api(`/api/workspaces/${randomUUID()}`, { token: owner.token })).status).toBe(404);
  });
});
