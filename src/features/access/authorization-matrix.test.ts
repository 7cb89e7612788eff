import { randomBytes, randomUUID } from 'node:crypto';
import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiInit,
  type ApiResponse,
  startTestApp,
  type TestApp,
} from '../../../testkit/src/start-app.ts';
import { addMember, createTestWorkspace, signUp, type TestUser } from '../../../testkit/src/users.ts';
import type { RouteAccess, RouteEntry } from '../../platform/http/create-server.ts';
import { apiKeys } from '../api-keys/schema.ts';
import { memberships } from '../workspaces/schema.ts';

/**
 * The authorization matrix: every route of `app.routeTable` × every kind of caller × own and
 * foreign workspace, checked against the route's declared access. Nothing here lists routes:
 * a route added by a feature later is covered the day it is registered.
 */

type Role = 'viewer' | 'operator' | 'admin' | 'owner';
/** The ranking the access contract promises, written out here rather than imported. */
const RANKING: readonly Role[] = ['viewer', 'operator', 'admin', 'owner'];
const atLeast = (role: Role, needed: Role) => RANKING.indexOf(role) >= RANKING.indexOf(needed);

type Target = 'own' | 'foreign';

interface Caller {
  name: string;
  kind: 'anonymous' | 'user' | 'api_key';
  headers: Record<string, string>;
  /** The caller's role per workspace of the fixture; absent → not a member. */
  roles: Partial<Record<Target, Role>>;
}

interface Fixture {
  workspaces: Record<Target, string>;
  callers: Caller[];
  /** Every membership the fixture relies on, as `workspace/user/role`. */
  memberships: string[];
  keyIds: string[];
}

interface ErrorShape {
  code: string;
  message: string;
}

function errorOf(body: unknown): ErrorShape | undefined {
  if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
  const { error } = body;
  if (typeof error !== 'object' || error === null || !('code' in error) || !('message' in error))
    return undefined;
  const { code, message } = error;
  return typeof code === 'string' && typeof message === 'string' ? { code, message } : undefined;
}

function bearer(token: string) {
  return { authorization: `Bearer ${token}` };
}

async function createApiKey(
  app: TestApp,
  owner: TestUser,
  workspaceId: string,
  scope: 'read' | 'write' | 'admin',
) {
  const response = await app.api(`/api/workspaces/${workspaceId}/api-keys`, {
    method: 'POST',
    token: owner.token,
    json: { name: `matrix ${scope}`, scopes: [scope] },
  });
  if (response.status !== 201)
    throw new Error(`api key failed: ${response.status} ${JSON.stringify(response.body)}`);
  const key = response.json.key;
  const id = typeof key === 'object' && key !== null && 'id' in key ? String(key.id) : '';
  return { id, secret: String(response.json.secret) };
}

async function buildFixture(app: TestApp): Promise<Fixture> {
  const owner = await signUp(app);
  const own = await createTestWorkspace(app, owner, 'Matrix own');
  const viewer = await addMember(app, owner, own, 'viewer');
  const operator = await addMember(app, owner, own, 'operator');
  const admin = await addMember(app, owner, own, 'admin');
  const outsider = await signUp(app);
  const foreign = await createTestWorkspace(app, outsider, 'Matrix foreign');
  const read = await createApiKey(app, owner, own, 'read');
  const write = await createApiKey(app, owner, own, 'write');
  const adminKey = await createApiKey(app, owner, own, 'admin');
  return {
    workspaces: { own, foreign },
    callers: [
      { name: 'anonymous', kind: 'anonymous', headers: {}, roles: {} },
      { name: 'viewer', kind: 'user', headers: bearer(viewer.token), roles: { own: 'viewer' } },
      { name: 'operator', kind: 'user', headers: bearer(operator.token), roles: { own: 'operator' } },
      { name: 'admin', kind: 'user', headers: bearer(admin.token), roles: { own: 'admin' } },
      { name: 'owner', kind: 'user', headers: bearer(owner.token), roles: { own: 'owner' } },
      { name: 'api key (read)', kind: 'api_key', headers: bearer(read.secret), roles: { own: 'viewer' } },
      { name: 'api key (write)', kind: 'api_key', headers: bearer(write.secret), roles: { own: 'operator' } },
      { name: 'api key (admin)', kind: 'api_key', headers: bearer(adminKey.secret), roles: { own: 'admin' } },
      {
        name: 'member of another workspace only',
        kind: 'user',
        headers: bearer(outsider.token),
        roles: { foreign: 'owner' },
      },
    ],
    memberships: [
      `${own}/${owner.id}/owner`,
      `${own}/${viewer.id}/viewer`,
      `${own}/${operator.id}/operator`,
      `${own}/${admin.id}/admin`,
      `${foreign}/${outsider.id}/owner`,
    ].sort(),
    keyIds: [read.id, write.id, adminKey.id],
  };
}

/**
 * Whether the fixture survived the last call: an allowed call may legitimately leave a
 * workspace, delete it or revoke a key. Then the matrix goes on with a fresh fixture.
 */
async function fixtureIntact(app: TestApp, fixture: Fixture): Promise<boolean> {
  const rows = await app.ctx.db
    .select()
    .from(memberships)
    .where(inArray(memberships.workspaceId, Object.values(fixture.workspaces)));
  const current = rows.map((row) => `${row.workspaceId}/${row.userId}/${row.role}`).sort();
  if (JSON.stringify(current) !== JSON.stringify(fixture.memberships)) return false;
  const keys = await app.ctx.db.select().from(apiKeys).where(inArray(apiKeys.id, fixture.keyIds));
  return keys.length === fixture.keyIds.length && keys.every((key) => key.revokedAt === null);
}

const PARAM = /:([A-Za-z0-9_]+)(?:\([^)]*\))?/g;

/** The route's URL with `:ws` set to `workspaceId` and every other parameter to something that exists nowhere. */
function concreteUrl(route: RouteEntry, workspaceId: string | undefined): string {
  return route.url
    .replace(PARAM, (_match, name: string) => {
      if (name === 'ws' && workspaceId) return workspaceId;
      if (name === 'token') return randomBytes(15).toString('base64url');
      return randomUUID();
    })
    .replace('*', 'anything');
}

function hasWorkspaceParam(route: RouteEntry) {
  return /:ws(?![A-Za-z0-9_])/.test(route.url);
}

type Expectation =
  | { kind: 'exactly'; status: number; code: string; why: string }
  | { kind: 'not'; statuses: number[]; why: string };

const REFUSALS = [401, 403];

/**
 * What the access contract promises for one call. `anonymousStatus` is what an anonymous
 * caller got on the same public route: credentials must never turn a public answer into a
 * refusal (a public route may refuse on its own terms, e.g. refresh without a session cookie —
 * then everyone gets that refusal alike).
 */
function expectationOf(
  access: RouteAccess,
  caller: Caller,
  target: Target | undefined,
  anonymousStatus: number | undefined,
): Expectation {
  if (access === 'public') {
    const ownRefusal = anonymousStatus !== undefined && REFUSALS.includes(anonymousStatus);
    return ownRefusal
      ? {
          kind: 'not',
          statuses: REFUSALS.filter((status) => status !== anonymousStatus),
          why: 'public: credentials change nothing',
        }
      : { kind: 'not', statuses: REFUSALS, why: 'public: never refused for who calls' };
  }
  if (caller.kind === 'anonymous')
    return { kind: 'exactly', status: 401, code: 'UNAUTHENTICATED', why: 'signed out' };
  if (access === 'user') {
    return caller.kind === 'api_key'
      ? { kind: 'exactly', status: 403, code: 'FORBIDDEN', why: 'user route refuses API keys' }
      : { kind: 'not', statuses: REFUSALS, why: 'any signed-in user may call' };
  }
  const role = target === undefined ? undefined : caller.roles[target];
  if (role === undefined)
    return { kind: 'exactly', status: 404, code: 'NOT_FOUND', why: 'not a member of the workspace' };
  if (caller.kind === 'api_key' && access.apiKeys === false) {
    return { kind: 'exactly', status: 403, code: 'FORBIDDEN', why: 'route declares apiKeys: false' };
  }
  if (!atLeast(role, access.role)) {
    return { kind: 'exactly', status: 403, code: 'FORBIDDEN', why: `${role} is below ${access.role}` };
  }
  return { kind: 'not', statuses: REFUSALS, why: `${role} is at least ${access.role}` };
}

function describeExpectation(expectation: Expectation) {
  return expectation.kind === 'exactly'
    ? `${expectation.status} ${expectation.code} (${expectation.why})`
    : `anything but ${[...expectation.statuses, 500].join('/')} (${expectation.why})`;
}

/** Mismatches of one response with the contract; empty when it holds. */
function check(response: ApiResponse, expectation: Expectation): string[] {
  const problems: string[] = [];
  const error = errorOf(response.body);
  if (response.status >= 500) problems.push('server error');
  if (response.status >= 400 && !error) problems.push('no {"error":{"code","message"}} body');
  if (expectation.kind === 'exactly') {
    if (response.status !== expectation.status) problems.push(`status ${response.status}`);
    else if (error?.code !== expectation.code) problems.push(`code ${error?.code}`);
  } else if (expectation.statuses.includes(response.status)) {
    problems.push(`status ${response.status}`);
  }
  return problems;
}

function accessLabel(access: RouteAccess) {
  return typeof access === 'string' ? access : `role ${access.role}`;
}

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.close();
});

describe('app.routeTable', () => {
  it('lists the product routes with their declared access, so the matrix below has something to walk', () => {
    const table = app.app.routeTable;
    expect(table.length).toBeGreaterThan(10);
    expect(table.some((route) => route.access === 'public')).toBe(true);
    expect(table.some((route) => route.access === 'user')).toBe(true);
    expect(table.some((route) => typeof route.access === 'object' && hasWorkspaceParam(route))).toBe(true);
    expect(table.every((route) => route.method !== 'HEAD')).toBe(true);
  });
});

describe('access check (every route × every caller × own and foreign workspace)', () => {
  it('refuses and admits exactly as each route declares, never answers 500, and every 4xx has the error shape', async () => {
    let fixture = await buildFixture(app);
    const mismatches: string[] = [];
    let calls = 0;
    let rebuilds = 0;
    for (const route of app.app.routeTable) {
      const targets: Array<Target | undefined> = hasWorkspaceParam(route) ? ['own', 'foreign'] : [undefined];
      for (const target of targets) {
        let anonymousStatus: number | undefined;
        // Indexes, not the callers themselves: a rebuilt fixture brings new callers.
        for (let index = 0; index < fixture.callers.length; index++) {
          const caller = fixture.callers[index];
          if (!caller) continue;
          const url = concreteUrl(route, target === undefined ? undefined : fixture.workspaces[target]);
          const init: ApiInit = {
            method: route.method,
            headers: caller.headers,
            ...(route.hasBody ? { json: {} } : {}),
          };
          const response = await app.api(url, init);
          calls += 1;
          if (caller.kind === 'anonymous') anonymousStatus = response.status;
          const expectation = expectationOf(route.access, caller, target, anonymousStatus);
          const problems = check(response, expectation);
          if (problems.length > 0) {
            mismatches.push(
              `${route.method} ${url} [${accessLabel(route.access)}] as ${caller.name}${target ? ` on ${target} workspace` : ''}: ` +
                `expected ${describeExpectation(expectation)}, got ${response.status} ${JSON.stringify(response.body)?.slice(0, 200)} — ${problems.join(', ')}`,
            );
          }
          if (route.method !== 'GET' && !(await fixtureIntact(app, fixture))) {
            fixture = await buildFixture(app);
            rebuilds += 1;
          }
        }
      }
    }
    expect(mismatches).toEqual([]);
    // Sanity: the walk really happened (9 callers per route and workspace).
    expect(calls).toBeGreaterThanOrEqual(app.app.routeTable.length * 9);
    expect(rebuilds).toBeLessThan(calls);
    // Thousands of sequential calls: minutes on a loaded machine, not seconds.
  }, 600_000);

  it('ignores malformed or unknown credentials on public routes instead of refusing the call', async () => {
    const junk: Array<Record<string, string>> = [
      { authorization: 'Basic dXNlcjpwYXNz' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer not-a-jwt' },
      { authorization: 'Bearer sb_no_such_key_0123456789' },
      { 'x-api-key': 'sb_no_such_key_0123456789' },
    ];
    const mismatches: string[] = [];
    for (const route of app.app.routeTable.filter((entry) => entry.access === 'public')) {
      const url = concreteUrl(route, undefined);
      const init: ApiInit = { method: route.method, ...(route.hasBody ? { json: {} } : {}) };
      const plain = await app.api(url, init);
      for (const headers of junk) {
        const response = await app.api(url, { ...init, headers });
        if (response.status !== plain.status) {
          mismatches.push(
            `${route.method} ${url} with ${JSON.stringify(headers)}: ${response.status} instead of ${plain.status}`,
          );
        }
      }
    }
    expect(mismatches).toEqual([]);
  });
});

// ─── The user story: sign-up → workspace → invitations → roles → audit ────────

describe('workspace invitations, roles and audit (user story)', () => {
  interface StoryUser {
    id: string;
    email: string;
    token: string;
  }
  const password = 'correct horse battery';
  let owner: StoryUser;
  let operator: StoryUser;
  let existing: StoryUser;
  let admin: StoryUser;
  let workspaceId = '';
  let otherWorkspaceId = '';
  /** An admin-or-owner token per workspace, to count its audit rows. */
  const auditReaders = new Map<string, string>();
  const tracked: Array<{ call: string; before: number; after: number }> = [];

  function userOf(response: ApiResponse, token: string): StoryUser {
    const user = response.json.user;
    const id = typeof user === 'object' && user !== null && 'id' in user ? String(user.id) : '';
    const email = typeof user === 'object' && user !== null && 'email' in user ? String(user.email) : '';
    return { id, email, token };
  }

  async function auditEntries(ws: string, token: string, query = '') {
    const items: Array<Record<string, unknown>> = [];
    let cursor: string | null = null;
    do {
      const suffix: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = await app.api(`/api/workspaces/${ws}/audit?limit=200${query}${suffix}`, { token });
      if (page.status !== 200) throw new Error(`audit failed: ${page.status} ${JSON.stringify(page.body)}`);
      const pageItems = page.json.items;
      if (Array.isArray(pageItems)) {
        for (const item of pageItems)
          if (typeof item === 'object' && item !== null) items.push(Object.fromEntries(Object.entries(item)));
      }
      cursor = typeof page.json.nextCursor === 'string' ? page.json.nextCursor : null;
    } while (cursor);
    return items;
  }

  /**
   * `app.api`, and for a mutating call under /api/workspaces/:ws the number of audit rows of
   * that workspace before and after, so the last test can check each success left a trace.
   */
  async function call(path: string, init: ApiInit = {}): Promise<ApiResponse> {
    const method = init.method ?? 'GET';
    const ws = /^\/api\/workspaces\/([0-9a-f-]{36})(?:[/?]|$)/.exec(path)?.[1];
    const reader = ws ? auditReaders.get(ws) : undefined;
    const mutating = method !== 'GET';
    const before = mutating && ws && reader ? (await auditEntries(ws, reader)).length : undefined;
    const response = await app.api(path, init);
    if (before !== undefined && ws && reader && response.status >= 200 && response.status < 300) {
      tracked.push({
        call: `${method} ${path} → ${response.status}`,
        before,
        after: (await auditEntries(ws, reader)).length,
      });
    }
    return response;
  }

  async function invite(email: string, role: Role, token = owner.token) {
    const response = await call(`/api/workspaces/${workspaceId}/invitations`, {
      method: 'POST',
      token,
      json: { email, role },
    });
    expect(response.status).toBe(201);
    const invitation = response.json.invitation;
    const id =
      typeof invitation === 'object' && invitation !== null && 'id' in invitation
        ? String(invitation.id)
        : '';
    return { id, token: String(response.json.token), url: String(response.json.url) };
  }

  it('registers, signs in and creates a workspace whose creator is its owner', async () => {
    const registered = await call('/api/auth/register', {
      method: 'POST',
      json: { email: 'story-owner@example.com', password, name: 'Olga Owner' },
    });
    expect(registered.status).toBe(201);
    const login = await call('/api/auth/login', {
      method: 'POST',
      json: { email: 'story-owner@example.com', password },
    });
    expect(login.status).toBe(200);
    owner = userOf(login, String(login.json.accessToken));

    const created = await call('/api/workspaces', {
      method: 'POST',
      token: owner.token,
      json: { name: 'Story Shop' },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: 'Story Shop', role: 'owner' });
    workspaceId = String(created.json.id);
    auditReaders.set(workspaceId, owner.token);

    const me = await call('/api/auth/me', { token: owner.token });
    expect(me.json.workspaces).toEqual([
      { id: workspaceId, name: 'Story Shop', slug: expect.any(String), role: 'owner' },
    ]);
  });

  it('invites an operator by email, who joins by registering through the link', async () => {
    const invitation = await invite('story-operator@example.com', 'operator');
    expect(invitation.url).toContain(encodeURIComponent(invitation.token));

    const preview = await call(`/api/invitations/${encodeURIComponent(invitation.token)}`);
    expect(preview.status).toBe(200);
    expect(preview.json).toMatchObject({
      workspaceName: 'Story Shop',
      email: 'story-operator@example.com',
      role: 'operator',
      hasAccount: false,
    });

    const registered = await call('/api/auth/register', {
      method: 'POST',
      json: { invitationToken: invitation.token, password },
    });
    expect(registered.status).toBe(201);
    operator = userOf(registered, String(registered.json.accessToken));
    expect(operator.email).toBe('story-operator@example.com');

    const workspace = await call(`/api/workspaces/${workspaceId}`, { token: operator.token });
    expect(workspace.status).toBe(200);
    expect(workspace.json.role).toBe('operator');

    // The single-use link is spent.
    const again = await call('/api/auth/register', {
      method: 'POST',
      json: { invitationToken: invitation.token, password },
    });
    expect(again.status).toBe(410);
    expect(errorOf(again.body)?.code).toBe('GONE');
    expect((await call(`/api/invitations/${encodeURIComponent(invitation.token)}`)).status).toBe(410);
  });

  it('lets an existing user accept an invitation while signed in, once, and only for their own email', async () => {
    const signedUp = await signUp(app, { email: 'story-existing@example.com' });
    existing = { id: signedUp.id, email: signedUp.email, token: signedUp.token };
    const invitation = await invite(existing.email, 'operator');
    const preview = await call(`/api/invitations/${encodeURIComponent(invitation.token)}`);
    expect(preview.json).toMatchObject({ hasAccount: true, role: 'operator' });

    // Someone else who got hold of the link cannot use it…
    const stranger = await signUp(app);
    const stolen = await call(`/api/invitations/${encodeURIComponent(invitation.token)}/accept`, {
      method: 'POST',
      token: stranger.token,
    });
    expect(stolen.status).toBe(403);

    // …the invitee can, exactly once.
    const accepted = await call(`/api/invitations/${encodeURIComponent(invitation.token)}/accept`, {
      method: 'POST',
      token: existing.token,
    });
    expect(accepted.status).toBe(200);
    expect(accepted.json).toEqual({ workspaceId, role: 'operator' });
    const twice = await call(`/api/invitations/${encodeURIComponent(invitation.token)}/accept`, {
      method: 'POST',
      token: existing.token,
    });
    expect(twice.status).toBe(410);
    expect(errorOf(twice.body)?.code).toBe('GONE');

    const members = await call(`/api/workspaces/${workspaceId}/members`, { token: owner.token });
    const items = Array.isArray(members.json.items) ? members.json.items : [];
    expect(items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ userId: existing.id, role: 'operator' }),
        expect.objectContaining({ userId: operator.id, role: 'operator' }),
      ]),
    );
    expect(
      items.some(
        (item: unknown) =>
          typeof item === 'object' && item !== null && 'userId' in item && item.userId === stranger.id,
      ),
    ).toBe(false);
  });

  it('answers 410 for a revoked invitation, and no longer lists it', async () => {
    const invitation = await invite('story-revoked@example.com', 'viewer');
    const open = await call(`/api/workspaces/${workspaceId}/invitations`, { token: owner.token });
    expect(JSON.stringify(open.json.items)).toContain(invitation.id);

    const revoked = await call(`/api/workspaces/${workspaceId}/invitations/${invitation.id}`, {
      method: 'DELETE',
      token: owner.token,
    });
    expect(revoked.status).toBe(204);
    expect((await call(`/api/invitations/${encodeURIComponent(invitation.token)}`)).status).toBe(410);
    const register = await call('/api/auth/register', {
      method: 'POST',
      json: { invitationToken: invitation.token, password },
    });
    expect(register.status).toBe(410);
    expect(errorOf(register.body)?.code).toBe('GONE');
    const after = await call(`/api/workspaces/${workspaceId}/invitations`, { token: owner.token });
    expect(JSON.stringify(after.json.items)).not.toContain(invitation.id);
    // Revoking twice finds nothing open.
    expect(
      (
        await call(`/api/workspaces/${workspaceId}/invitations/${invitation.id}`, {
          method: 'DELETE',
          token: owner.token,
        })
      ).status,
    ).toBe(404);
  });

  it('refuses the operator owner- and admin-only calls with 403 and changes nothing', async () => {
    const forbidden: Array<[string, ApiInit]> = [
      [`/api/workspaces/${workspaceId}`, { method: 'DELETE' }],
      [`/api/workspaces/${workspaceId}`, { method: 'PATCH', json: { name: 'Hijacked' } }],
      [
        `/api/workspaces/${workspaceId}/invitations`,
        { method: 'POST', json: { email: 'friend@example.com', role: 'viewer' } },
      ],
      [
        `/api/workspaces/${workspaceId}/members/${existing.id}`,
        { method: 'PATCH', json: { role: 'viewer' } },
      ],
      [`/api/workspaces/${workspaceId}/audit`, { method: 'GET' }],
      [
        `/api/workspaces/${workspaceId}/api-keys`,
        { method: 'POST', json: { name: 'mine', scopes: ['admin'] } },
      ],
    ];
    for (const [path, init] of forbidden) {
      const response = await call(path, { ...init, token: operator.token });
      expect(response.status, `${init.method} ${path}`).toBe(403);
      expect(errorOf(response.body)?.code).toBe('FORBIDDEN');
    }
    const deleteRefusal = await call(`/api/workspaces/${workspaceId}`, {
      method: 'DELETE',
      token: operator.token,
    });
    expect(deleteRefusal.json.error).toMatchObject({ details: { needed: 'owner', actual: 'operator' } });
    const workspace = await call(`/api/workspaces/${workspaceId}`, { token: owner.token });
    expect(workspace.json.name).toBe('Story Shop');
  });

  it("answers 404 for another workspace's resources, the same as for a workspace that does not exist", async () => {
    const stranger = await signUp(app);
    const created = await call('/api/workspaces', {
      method: 'POST',
      token: stranger.token,
      json: { name: 'Other Shop' },
    });
    otherWorkspaceId = String(created.json.id);
    auditReaders.set(otherWorkspaceId, stranger.token);
    const missing = randomUUID();
    for (const suffix of ['', '/members', '/audit', '/invitations', '/api-keys']) {
      const foreign = await call(`/api/workspaces/${otherWorkspaceId}${suffix}`, { token: operator.token });
      expect(foreign.status, suffix).toBe(404);
      expect(errorOf(foreign.body)?.code).toBe('NOT_FOUND');
      const nowhere = await call(`/api/workspaces/${missing}${suffix}`, { token: operator.token });
      expect(foreign.body).toEqual(nowhere.body);
    }
    const rename = await call(`/api/workspaces/${otherWorkspaceId}`, {
      method: 'PATCH',
      token: owner.token,
      json: { name: 'Mine now' },
    });
    expect(rename.status).toBe(404);
  });

  it('lets an admin manage operators and viewers, but only an owner grants admin or owner', async () => {
    const invitation = await invite('story-admin@example.com', 'admin');
    const registered = await call('/api/auth/register', {
      method: 'POST',
      json: { invitationToken: invitation.token, password },
    });
    expect(registered.status).toBe(201);
    admin = userOf(registered, String(registered.json.accessToken));

    const memberUrl = (userId: string) => `/api/workspaces/${workspaceId}/members/${userId}`;
    for (const role of ['admin', 'owner']) {
      const promote = await call(memberUrl(operator.id), {
        method: 'PATCH',
        token: admin.token,
        json: { role },
      });
      expect(promote.status, `admin promotes to ${role}`).toBe(403);
    }
    expect(
      (await call(memberUrl(owner.id), { method: 'PATCH', token: admin.token, json: { role: 'viewer' } }))
        .status,
    ).toBe(403);
    const inviteAdmin = await call(`/api/workspaces/${workspaceId}/invitations`, {
      method: 'POST',
      token: admin.token,
      json: { email: 'another-admin@example.com', role: 'admin' },
    });
    expect(inviteAdmin.status).toBe(403);

    const demote = await call(memberUrl(operator.id), {
      method: 'PATCH',
      token: admin.token,
      json: { role: 'viewer' },
    });
    expect(demote.status).toBe(200);
    expect(demote.json).toEqual({ userId: operator.id, role: 'viewer' });
    const back = await call(memberUrl(operator.id), {
      method: 'PATCH',
      token: admin.token,
      json: { role: 'operator' },
    });
    expect(back.status).toBe(200);
    expect(
      (await call(memberUrl(randomUUID()), { method: 'PATCH', token: owner.token, json: { role: 'viewer' } }))
        .status,
    ).toBe(404);
  });

  it('keeps at least one owner: the last owner can be neither demoted nor leave (409)', async () => {
    const memberUrl = (userId: string) => `/api/workspaces/${workspaceId}/members/${userId}`;
    const demoteSelf = await call(memberUrl(owner.id), {
      method: 'PATCH',
      token: owner.token,
      json: { role: 'admin' },
    });
    expect(demoteSelf.status).toBe(409);
    expect(errorOf(demoteSelf.body)?.code).toBe('CONFLICT');
    const leave = await call(`/api/workspaces/${workspaceId}/leave`, { method: 'POST', token: owner.token });
    expect(leave.status).toBe(409);

    // With a second owner, the first one may step down.
    expect(
      (await call(memberUrl(admin.id), { method: 'PATCH', token: owner.token, json: { role: 'owner' } }))
        .status,
    ).toBe(200);
    expect(
      (await call(memberUrl(admin.id), { method: 'PATCH', token: owner.token, json: { role: 'admin' } }))
        .status,
    ).toBe(200);
    const roles = await call(`/api/workspaces/${workspaceId}/members`, { token: owner.token });
    expect(roles.json.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ userId: owner.id, role: 'owner' })]),
    );
  });

  it('records workspace.create, invitation.create, invitation.accept and member.role_change with the before/after diff', async () => {
    const entries = await auditEntries(workspaceId, owner.token);
    const actions = new Set(entries.map((entry) => entry.action));
    for (const action of [
      'workspace.create',
      'invitation.create',
      'invitation.accept',
      'invitation.revoke',
      'member.role_change',
    ]) {
      expect(actions, action).toContain(action);
    }
    const demotion = entries.find(
      (entry) =>
        entry.action === 'member.role_change' &&
        entry.targetId === operator.id &&
        JSON.stringify(entry.diff).includes('"after":"viewer"'),
    );
    expect(demotion).toMatchObject({
      actorType: 'user',
      actorId: admin.id,
      targetType: 'user',
      diff: { role: { before: 'operator', after: 'viewer' } },
    });
    const accepted = entries.find(
      (entry) => entry.action === 'invitation.accept' && JSON.stringify(entry.diff).includes(existing.id),
    );
    expect(accepted).toMatchObject({
      actorId: existing.id,
      diff: { userId: { after: existing.id }, role: { after: 'operator' } },
    });

    const filtered = await auditEntries(workspaceId, owner.token, '&action=member.role_change');
    expect(filtered.length).toBeGreaterThanOrEqual(4);
    expect(filtered.every((entry) => entry.action === 'member.role_change')).toBe(true);
    // The other workspace's log holds only its own creation.
    const other = await auditEntries(otherWorkspaceId, auditReaders.get(otherWorkspaceId) ?? '');
    expect(other.map((entry) => entry.action)).toEqual(['workspace.create']);
  });

  it('pages through the audit log newest first with nextCursor, without gaps or duplicates', async () => {
    for (let index = 1; index <= 5; index++) {
      const renamed = await call(`/api/workspaces/${workspaceId}`, {
        method: 'PATCH',
        token: owner.token,
        json: { name: `Story Shop ${index}` },
      });
      expect(renamed.status).toBe(200);
    }
    const all = await auditEntries(workspaceId, owner.token);
    expect(all.length).toBeGreaterThan(10);

    const walked: Array<Record<string, unknown>> = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const suffix: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = await call(`/api/workspaces/${workspaceId}/audit?limit=2${suffix}`, {
        token: owner.token,
      });
      expect(page.status).toBe(200);
      const items = Array.isArray(page.json.items) ? page.json.items : [];
      expect(items.length).toBeLessThanOrEqual(2);
      for (const item of items)
        if (typeof item === 'object' && item !== null) walked.push(Object.fromEntries(Object.entries(item)));
      cursor = typeof page.json.nextCursor === 'string' ? page.json.nextCursor : null;
      pages += 1;
      expect(pages).toBeLessThan(200);
    } while (cursor);

    const ids = walked.map((entry) => entry.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(all.map((entry) => entry.id));
    expect(pages).toBe(Math.ceil(all.length / 2));
    const times = walked.map((entry) => Date.parse(String(entry.createdAt)));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(walked[0]).toMatchObject({
      action: 'workspace.update',
      diff: { name: { before: 'Story Shop 4', after: 'Story Shop 5' } },
    });
    expect(walked.at(-1)?.action).toBe('workspace.create');

    const bad = await call(`/api/workspaces/${workspaceId}/audit?cursor=not-a-cursor`, {
      token: owner.token,
    });
    expect(bad.status).toBe(400);
    expect(errorOf(bad.body)?.code).toBe('BAD_REQUEST');
  });

  it('adds at least one audit row for every successful mutating call under /api/workspaces/:ws made above', () => {
    expect(tracked.length).toBeGreaterThanOrEqual(10);
    const silent = tracked.filter((entry) => entry.after <= entry.before).map((entry) => entry.call);
    expect(silent).toEqual([]);
  });
});
