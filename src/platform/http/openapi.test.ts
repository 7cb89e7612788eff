import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiResponse, startTestApp, type TestApp } from '../../../testkit/src/start-app.ts';
import { signUp } from '../../../testkit/src/users.ts';

/**
 * The HTTP surface every feature gets from create-server.ts: the OpenAPI document (checked
 * against app.routeTable, so new routes are covered without edits here), the docs page, the
 * error shape of unknown routes and unsupported bodies, request ids, security headers, CORS,
 * /health and /metrics.
 */

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.close();
});

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value[key1][key2]…`, or undefined as soon as a step is not an object. */
function dig(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (!isRecord(current)) return undefined;
    current = current[key];
  }
  return current;
}

function expectErrorShape(response: ApiResponse, code?: string) {
  expect(response.body).toMatchObject({
    error: { code: code ?? expect.any(String), message: expect.any(String) },
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('GET /api/openapi.json', () => {
  let doc: Json;

  beforeAll(async () => {
    const response = await app.api('/api/openapi.json');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    doc = response.json;
  });

  /** Follows a local `$ref` (`#/components/schemas/X`); other schemas come back as they are. */
  function resolve(schema: unknown): unknown {
    const ref = dig(schema, '$ref');
    if (typeof ref !== 'string') return schema;
    expect(ref.startsWith('#/')).toBe(true);
    return dig(doc, ...ref.slice(2).split('/'));
  }

  function operations(): Array<{ path: string; method: string; operation: Json }> {
    const paths = dig(doc, 'paths');
    if (!isRecord(paths)) return [];
    return Object.entries(paths).flatMap(([path, item]) =>
      isRecord(item)
        ? Object.entries(item).flatMap(([method, operation]) =>
            isRecord(operation) ? [{ path, method, operation }] : [],
          )
        : [],
    );
  }

  /** The product routes as they should appear in the document. */
  function documentedRoutes() {
    return app.app.routeTable
      .filter((route) => route.url !== '/api/openapi.json')
      .map((route) => ({
        ...route,
        // @fastify/swagger writes a wildcard (the admin panel's `/*`) as `{*}`.
        path: route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{*}'),
        method: route.method.toLowerCase(),
      }));
  }

  it('is an OpenAPI 3.1 document with info, paths and components', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: app.ctx.version });
    expect(isRecord(doc.paths)).toBe(true);
    expect(isRecord(dig(doc, 'components', 'schemas'))).toBe(true);
    expect(dig(doc, 'components', 'securitySchemes', 'bearer')).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    const methods = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
    for (const { path, method, operation } of operations()) {
      expect(path.startsWith('/'), path).toBe(true);
      expect(methods.has(method), `${method} ${path}`).toBe(true);
      expect(isRecord(operation.responses), `${method} ${path} has responses`).toBe(true);
    }
  });

  it('resolves every $ref to a component that exists', () => {
    const dangling: string[] = [];
    const walk = (value: unknown) => {
      if (Array.isArray(value)) {
        for (const item of value) walk(item);
        return;
      }
      if (!isRecord(value)) return;
      const ref = value.$ref;
      if (
        typeof ref === 'string' &&
        (!ref.startsWith('#/') || dig(doc, ...ref.slice(2).split('/')) === undefined)
      ) {
        dangling.push(ref);
      }
      for (const child of Object.values(value)) walk(child);
    };
    walk(doc);
    expect(dangling).toEqual([]);
  });

  it('lists every route of app.routeTable under its path and method, but not itself', () => {
    const missing = documentedRoutes()
      .filter((route) => !isRecord(dig(doc, 'paths', route.path, route.method)))
      .map((route) => `${route.method.toUpperCase()} ${route.path}`);
    expect(missing).toEqual([]);
    expect(dig(doc, 'paths', '/api/openapi.json')).toBeUndefined();
    expect(documentedRoutes().length).toBeGreaterThan(10);
  });

  it('declares every path parameter of every operation', () => {
    const undeclared: string[] = [];
    for (const { path, method, operation } of operations()) {
      const parameters = Array.isArray(operation.parameters) ? operation.parameters.map(resolve) : [];
      for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
        const declared = parameters.some(
          (parameter) =>
            dig(parameter, 'in') === 'path' &&
            dig(parameter, 'name') === name &&
            dig(parameter, 'required') === true,
        );
        if (!declared) undeclared.push(`${method.toUpperCase()} ${path}: {${name}}`);
      }
    }
    expect(undeclared).toEqual([]);
  });

  it('gives every route a 2xx response with a schema (or an explicit 204 without content)', () => {
    const without: string[] = [];
    for (const route of documentedRoutes()) {
      const responses = dig(doc, 'paths', route.path, route.method, 'responses');
      const successes = isRecord(responses)
        ? Object.entries(responses).filter(([status]) => /^2\d\d$/.test(status))
        : [];
      const described = successes.some(([status, response]) => {
        const content = dig(resolve(response), 'content');
        if (status === '204') return content === undefined;
        return isRecord(content) && Object.values(content).some((media) => isRecord(dig(media, 'schema')));
      });
      if (!described) without.push(`${route.method.toUpperCase()} ${route.path}`);
    }
    expect(without).toEqual([]);
  });

  it('gives every route with a body a required application/json request body schema', () => {
    const without = documentedRoutes()
      .filter((route) => route.hasBody)
      .filter(
        (route) =>
          !isRecord(
            dig(
              doc,
              'paths',
              route.path,
              route.method,
              'requestBody',
              'content',
              'application/json',
              'schema',
            ),
          ),
      )
      .map((route) => `${route.method.toUpperCase()} ${route.path}`);
    expect(without).toEqual([]);
    expect(documentedRoutes().some((route) => route.hasBody)).toBe(true);
  });

  it('describes every 4xx answer with the error shape', () => {
    const wrong: string[] = [];
    let seen = 0;
    for (const { path, method, operation } of operations()) {
      const responses = isRecord(operation.responses) ? operation.responses : {};
      for (const [status, response] of Object.entries(responses)) {
        if (!/^4\d\d$/.test(status)) continue;
        seen += 1;
        const schema = resolve(dig(resolve(response), 'content', 'application/json', 'schema'));
        const error = resolve(dig(schema, 'properties', 'error'));
        const required = dig(error, 'required');
        const shaped =
          dig(error, 'properties', 'code', 'type') === 'string' &&
          dig(error, 'properties', 'message', 'type') === 'string' &&
          Array.isArray(required) &&
          required.includes('code') &&
          required.includes('message');
        if (!shaped) wrong.push(`${method.toUpperCase()} ${path} ${status}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(seen).toBeGreaterThan(0);
    expect(dig(doc, 'components', 'schemas', 'Error')).toBeDefined();
  });
});

describe('GET /api/docs', () => {
  it('answers with the HTML docs page', async () => {
    const response = await fetch(`${app.url}/api/docs`, { redirect: 'follow' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toMatch(/swagger-ui/i);
  });
});

describe('unknown routes', () => {
  it('answer 404 NOT_FOUND with the error shape, whatever the method', async () => {
    for (const [method, path] of [
      ['GET', '/api/no-such-route'],
      ['POST', '/no/such/route'],
      ['DELETE', '/api/auth/login'],
      ['PUT', '/api/workspaces'],
    ] as const) {
      const response = await app.api(path, { method });
      expect(response.status, `${method} ${path}`).toBe(404);
      expectErrorShape(response, 'NOT_FOUND');
    }
  });
});

describe('x-request-id', () => {
  it('echoes a well-formed request id', async () => {
    const response = await app.api('/health', { headers: { 'x-request-id': 'trace-42.abc_DEF:7' } });
    expect(response.headers.get('x-request-id')).toBe('trace-42.abc_DEF:7');
  });

  it('generates a UUID when none is given', async () => {
    const first = await app.api('/health');
    const second = await app.api('/api/no-such-route');
    expect(first.headers.get('x-request-id')).toMatch(UUID);
    expect(second.headers.get('x-request-id')).toMatch(UUID);
    expect(first.headers.get('x-request-id')).not.toBe(second.headers.get('x-request-id'));
  });

  it('replaces a malformed request id with a generated UUID instead of echoing it', async () => {
    for (const given of ['has spaces in it', 'x'.repeat(129), '<script>alert(1)</script>', 'a,b']) {
      const response = await app.api('/health', { headers: { 'x-request-id': given } });
      expect(response.headers.get('x-request-id'), given).toMatch(UUID);
    }
  });
});

describe('security headers', () => {
  it('are set by helmet on API answers, errors and pages alike', async () => {
    for (const path of ['/health', '/api/no-such-route', '/api/openapi.json']) {
      const response = await app.api(path);
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(response.headers.get('x-frame-options'), path).toBe('SAMEORIGIN');
      expect(response.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(response.headers.get('strict-transport-security'), path).toMatch(/max-age=\d+/);
      expect(response.headers.get('cross-origin-opener-policy'), path).toBe('same-origin');
      expect(response.headers.get('content-security-policy'), path).toMatch(/default-src 'self'/);
      expect(response.headers.get('content-security-policy'), path).toMatch(/object-src 'none'/);
      expect(response.headers.get('x-powered-by'), path).toBeNull();
    }
  });
});

describe('CORS', () => {
  it('sends no access-control-allow-origin when CORS_ORIGINS is empty', async () => {
    const response = await app.api('/health', { headers: { origin: 'https://panel.example.com' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  describe('with CORS_ORIGINS set', () => {
    let corsApp: TestApp;
    beforeAll(async () => {
      corsApp = await startTestApp({
        env: { CORS_ORIGINS: 'https://panel.example.com, https://admin.example.com' },
      });
    });
    afterAll(async () => {
      await corsApp?.close();
    });

    it('allows a listed origin, with credentials', async () => {
      const response = await corsApp.api('/health', { headers: { origin: 'https://admin.example.com' } });
      expect(response.headers.get('access-control-allow-origin')).toBe('https://admin.example.com');
      expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    });

    it('answers the preflight of a listed origin', async () => {
      const response = await corsApp.api('/api/auth/login', {
        method: 'OPTIONS',
        headers: {
          origin: 'https://panel.example.com',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,authorization',
        },
      });
      expect(response.status).toBeLessThan(300);
      expect(response.headers.get('access-control-allow-origin')).toBe('https://panel.example.com');
      expect(response.headers.get('access-control-allow-methods')).toMatch(/POST/);
    });

    it('gives an origin that is not listed no access-control-allow-origin', async () => {
      for (const origin of [
        'https://evil.example.com',
        'https://panel.example.com.evil.com',
        'http://panel.example.com',
      ]) {
        const response = await corsApp.api('/health', { headers: { origin } });
        expect(response.headers.get('access-control-allow-origin'), origin).not.toBe(origin);
        expect(response.headers.get('access-control-allow-origin'), origin).not.toBe('*');
      }
    });
  });
});

describe('request bodies', () => {
  it('answers 415 UNSUPPORTED_MEDIA_TYPE with the error shape to a non-JSON body on every public JSON route', async () => {
    const routes = app.app.routeTable.filter((route) => route.access === 'public' && route.hasBody);
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) {
      const response = await app.api(route.url, {
        method: route.method,
        body: '<login/>',
        headers: { 'content-type': 'application/xml' },
      });
      expect(response.status, `${route.method} ${route.url}`).toBe(415);
      expectErrorShape(response, 'UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('answers 415 to a non-JSON body on a signed-in JSON route too', async () => {
    const user = await signUp(app);
    const response = await app.api('/api/workspaces', {
      method: 'POST',
      token: user.token,
      body: 'name=Acme',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(response.status).toBe(415);
    expectErrorShape(response, 'UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('GET /health', () => {
  it('answers ok with a passing database check (and every other registered check)', async () => {
    const response = await app.api('/health');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      status: 'ok',
      version: app.ctx.version,
      checks: { db: { ok: true, latencyMs: expect.any(Number) } },
    });
    const checks = dig(response.body, 'checks');
    expect(isRecord(checks) && Object.values(checks).every((check) => dig(check, 'ok') === true)).toBe(true);
    if (process.env.TEST_REDIS_URL) expect(checks).toMatchObject({ redis: { ok: true } });
  });
});

describe('GET /metrics', () => {
  it('answers the Prometheus text format with the HTTP latency histogram per route template', async () => {
    await app.api('/health');
    await app.api(`/api/workspaces/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`);
    const response = await app.api('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = String(response.body);
    expect(text).toContain('# TYPE switchboard_http_request_duration_seconds histogram');
    expect(text).toMatch(
      /^switchboard_http_request_duration_seconds_bucket\{[^}]*route="\/health"[^}]*\} \d+$/m,
    );
    expect(text).toMatch(
      /^switchboard_http_request_duration_seconds_count\{[^}]*route="\/api\/workspaces\/:ws"[^}]*status="401"[^}]*\} \d+$/m,
    );
    // Route templates, never raw URLs with ids in them (unbounded label values).
    expect(text).not.toContain('00000000-0000');
    const sample = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)( \d+)?$/;
    const bad = text
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('# HELP ') && !line.startsWith('# TYPE '))
      .filter((line) => !sample.test(line));
    expect(bad).toEqual([]);
  });
});
