import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';

/**
 * The typed API client. The access token lives in memory only; the refresh token is an
 * httpOnly cookie scoped to /api/auth that JavaScript never sees. A 401 triggers one refresh
 * (CSRF double submit: the `sb_csrf` cookie echoed in `x-csrf-token`), then the request is
 * retried once; a second failure signs the user out.
 */
export interface Session {
  accessToken: string;
  expiresIn: number;
  csrfToken: string;
  user: paths['/api/auth/me']['get']['responses'][200]['content']['application/json']['user'];
}

type SessionListener = (session: Session | null) => void;

let current: Session | null = null;
const listeners = new Set<SessionListener>();
let refreshing: Promise<Session | null> | null = null;

export function getSession(): Session | null {
  return current;
}

export function setSession(session: Session | null): void {
  current = session;
  for (const listener of listeners) listener(session);
}

export function onSessionChange(listener: SessionListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function csrfCookie(): string | undefined {
  const match = document.cookie.split('; ').find((part) => part.startsWith('sb_csrf='));
  return match ? decodeURIComponent(match.slice('sb_csrf='.length)) : undefined;
}

/** Whether a refresh cookie may exist (its CSRF twin is readable; the cookie itself is not). */
export function mayHaveSession(): boolean {
  return csrfCookie() !== undefined;
}

/** Trades the refresh cookie for a new access token; one request at a time. */
export function refreshSession(): Promise<Session | null> {
  refreshing ??= (async () => {
    const csrf = csrfCookie();
    if (!csrf) return null;
    const response = await fetch('/api/auth/refresh', {
      method: 'POST',
      headers: { 'x-csrf-token': csrf },
      credentials: 'same-origin',
    });
    if (!response.ok) return null;
    const session: Session = await response.json();
    return session;
  })()
    .catch(() => null)
    .then((session) => {
      setSession(session);
      return session;
    })
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

const NO_REFRESH = ['/api/auth/login', '/api/auth/refresh', '/api/auth/logout', '/api/auth/register'];
const retries = new Map<string, Request>();

const auth: Middleware = {
  onRequest({ request, id }) {
    if (current) request.headers.set('authorization', `Bearer ${current.accessToken}`);
    if (!NO_REFRESH.some((path) => new URL(request.url).pathname === path)) {
      retries.set(id, request.clone());
    }
    return request;
  },
  async onResponse({ response, id }) {
    const retry = retries.get(id);
    retries.delete(id);
    if (response.status !== 401 || !retry) return response;
    const session = await refreshSession();
    if (!session) return response;
    retry.headers.set('authorization', `Bearer ${session.accessToken}`);
    return fetch(retry);
  },
  onError({ id }) {
    retries.delete(id);
  },
};

export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use(auth);
