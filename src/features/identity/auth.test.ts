import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../testkit/src/start-app.ts';
import { signUp } from '../../../testkit/src/users.ts';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.close();
});

/** Cookies a browser would keep, from a response's Set-Cookie headers. */
function cookiesOf(headers: Headers): Record<string, string> {
  const jar: Record<string, string> = {};
  for (const line of headers.getSetCookie()) {
    const [pair] = line.split(';');
    const [name, ...rest] = (pair ?? '').split('=');
    if (name) jar[name.trim()] = rest.join('=');
  }
  return jar;
}

function cookieHeader(jar: Record<string, string>) {
  return Object.entries(jar)
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');
}

describe('login', () => {
  it('returns an access token, sets the refresh and CSRF cookies, and the token opens /api/auth/me', async () => {
    const user = await signUp(app, { email: 'Alice@Example.com' });
    const response = await app.api('/api/auth/login', {
      method: 'POST',
      json: { email: 'alice@example.com', password: user.password },
    });
    expect(response.status).toBe(200);
    expect(response.json.user).toMatchObject({ email: 'alice@example.com' });
    const jar = cookiesOf(response.headers);
    expect(jar.sb_refresh).toBeTruthy();
    expect(jar.sb_csrf).toBe(response.json.csrfToken);
    const setCookie = response.headers.getSetCookie().find((line) => line.startsWith('sb_refresh='));
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);

    const me = await app.api('/api/auth/me', { token: String(response.json.accessToken) });
    expect(me.status).toBe(200);
    expect(me.json.user).toMatchObject({ email: 'alice@example.com' });
  });

  it('answers 401 with the error shape on a wrong password, and never says which part was wrong', async () => {
    const user = await signUp(app);
    const response = await app.api('/api/auth/login', {
      method: 'POST',
      json: { email: user.email, password: 'wrong-password' },
    });
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: { code: 'UNAUTHENTICATED', message: 'Wrong email or password' } });
    const unknown = await app.api('/api/auth/login', {
      method: 'POST',
      json: { email: 'nobody@example.com', password: 'x' },
    });
    expect(unknown.status).toBe(401);
    expect(unknown.json.error).toEqual(response.json.error);
  });

  it('throttles repeated failures for one account with 429 and Retry-After', async () => {
    const user = await signUp(app);
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 12; attempt++) {
      const response = await app.api('/api/auth/login', {
        method: 'POST',
        json: { email: user.email, password: 'nope' },
      });
      statuses.push(response.status);
      if (response.status === 429) {
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(response.json.error).toMatchObject({ code: 'RATE_LIMITED' });
      }
    }
    expect(statuses.slice(0, 9).every((status) => status === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    // Even the right password is refused while the account is throttled.
    const right = await app.api('/api/auth/login', {
      method: 'POST',
      json: { email: user.email, password: user.password },
    });
    expect(right.status).toBe(429);
  });
});

describe('refresh', () => {
  async function loginJar() {
    const user = await signUp(app);
    const response = await app.api('/api/auth/login', {
      method: 'POST',
      json: { email: user.email, password: user.password },
    });
    return cookiesOf(response.headers);
  }

  function refresh(jar: Record<string, string>, csrf = jar.sb_csrf ?? '') {
    return app.api('/api/auth/refresh', {
      method: 'POST',
      headers: { cookie: cookieHeader(jar), 'x-csrf-token': csrf },
    });
  }

  it('rotates the refresh token and issues a working access token', async () => {
    const jar = await loginJar();
    const first = await refresh(jar);
    expect(first.status).toBe(200);
    const next = cookiesOf(first.headers);
    expect(next.sb_refresh).toBeTruthy();
    expect(next.sb_refresh).not.toBe(jar.sb_refresh);
    const me = await app.api('/api/auth/me', { token: String(first.json.accessToken) });
    expect(me.status).toBe(200);
    const second = await refresh(next);
    expect(second.status).toBe(200);
  });

  it('refuses a cookie-authenticated call without the CSRF header', async () => {
    const jar = await loginJar();
    const response = await refresh(jar, 'forged');
    expect(response.status).toBe(403);
    expect(response.json.error).toMatchObject({ details: { reason: 'csrf' } });
  });

  it('revokes the whole family when a rotated token is replayed', async () => {
    const jar = await loginJar();
    const rotated = await refresh(jar);
    const next = cookiesOf(rotated.headers);
    // An attacker replays the first token…
    const replay = await refresh(jar);
    expect(replay.status).toBe(401);
    // …and the legitimate holder of the newest token is signed out too.
    const victim = await refresh(next);
    expect(victim.status).toBe(401);
  });

  it('logout ends the session', async () => {
    const jar = await loginJar();
    const out = await app.api('/api/auth/logout', {
      method: 'POST',
      headers: { cookie: cookieHeader(jar), 'x-csrf-token': jar.sb_csrf ?? '' },
    });
    expect(out.status).toBe(204);
    expect((await refresh(jar)).status).toBe(401);
  });
});

describe('access tokens', () => {
  it('rejects forged, malformed and missing tokens with 401', async () => {
    const user = await signUp(app);
    const [header, payload] = user.token.split('.');
    const forged = `${header}.${payload}.${'A'.repeat(43)}`;
    for (const token of [forged, 'not-a-jwt', `${user.token}x`]) {
      const response = await app.api('/api/auth/me', { token });
      expect(response.status).toBe(401);
      expect(response.json.error).toMatchObject({ code: 'UNAUTHENTICATED' });
    }
    expect((await app.api('/api/auth/me')).status).toBe(401);
    expect((await app.api('/api/auth/me', { headers: { authorization: 'Basic abc' } })).status).toBe(401);
  });
});

describe('password reset', () => {
  it('mails a single-use link that sets a new password and ends old sessions', async () => {
    const user = await signUp(app);
    expect(
      (await app.api('/api/auth/password-reset', { method: 'POST', json: { email: user.email } })).status,
    ).toBe(202);
    // Unknown emails get the same answer.
    expect(
      (await app.api('/api/auth/password-reset', { method: 'POST', json: { email: 'ghost@example.com' } }))
        .status,
    ).toBe(202);
    const { mailOutbox } = await import('../mail/schema.ts');
    const { eq } = await import('drizzle-orm');
    const [mail] = await app.ctx.db.select().from(mailOutbox).where(eq(mailOutbox.to, user.email));
    const token = /token=([A-Za-z0-9_%-]+)/.exec(mail?.text ?? '')?.[1];
    expect(token).toBeTruthy();
    const confirm = await app.api('/api/auth/password-reset/confirm', {
      method: 'POST',
      json: { token: decodeURIComponent(token ?? ''), password: 'a brand new password' },
    });
    expect(confirm.status).toBe(200);
    const again = await app.api('/api/auth/password-reset/confirm', {
      method: 'POST',
      json: { token: decodeURIComponent(token ?? ''), password: 'another new password' },
    });
    expect(again.status).toBe(400);
    const login = await app.api('/api/auth/login', {
      method: 'POST',
      json: { email: user.email, password: 'a brand new password' },
    });
    expect(login.status).toBe(200);
  });
});
