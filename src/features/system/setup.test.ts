import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../testkit/src/start-app.ts';
import { ensureFirstOwner } from './service.ts';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('ensureFirstOwner', () => {
  it('issues a one-time setup URL whose token creates the super-admin owner and a workspace', async () => {
    app = await startTestApp();
    expect((await app.api('/api/setup')).json).toEqual({ needed: true });
    const first = await ensureFirstOwner(app.ctx);
    if (first.kind !== 'setup') throw new Error(`expected a setup URL, got ${first.kind}`);
    const token = new URL(first.url).searchParams.get('token') ?? '';
    const page = await app.api(`/setup?token=${token}`);
    expect(page.status).toBe(200);
    // The admin panel's setup screen when the panel is built, else the server-rendered form.
    expect(String(page.body)).toMatch(/<div id="root">|Create owner/);

    const body = { email: 'owner@example.com', password: 'a long password', workspaceName: 'Shop' };
    expect(
      (await app.api('/api/setup', { method: 'POST', json: { ...body, token: 'wrong-token-value' } })).status,
    ).toBe(403);
    const done = await app.api('/api/setup', { method: 'POST', json: { ...body, token } });
    expect(done.status).toBe(201);
    expect((await app.api('/api/setup')).json).toEqual({ needed: false });
    expect((await app.api('/api/setup', { method: 'POST', json: { ...body, token } })).status).toBe(410);

    const login = await app.api('/api/auth/login', {
      method: 'POST',
      json: { email: body.email, password: body.password },
    });
    expect(login.json.user).toMatchObject({ isSuperAdmin: true });
    const workspaces = await app.api('/api/workspaces', { token: String(login.json.accessToken) });
    expect(workspaces.json.items).toEqual([expect.objectContaining({ name: 'Shop', role: 'owner' })]);
    const [created] = Array.isArray(workspaces.json.items) ? workspaces.json.items : [];
    const ws = String(created?.id);
    const audit = await app.api(`/api/workspaces/${ws}/audit`, { token: String(login.json.accessToken) });
    expect(audit.json.items).toEqual([
      expect.objectContaining({ action: 'workspace.create', actorType: 'user', actorLabel: body.email }),
    ]);
    expect(await ensureFirstOwner(app.ctx)).toEqual({ kind: 'ready' });
  });

  it('creates the owner from SWITCHBOARD_ADMIN_EMAIL / PASSWORD', async () => {
    app = await startTestApp({
      env: { SWITCHBOARD_ADMIN_EMAIL: 'admin@example.com', SWITCHBOARD_ADMIN_PASSWORD: 'admin password' },
    });
    expect(await ensureFirstOwner(app.ctx)).toEqual({ kind: 'created', email: 'admin@example.com' });
    const login = await app.api('/api/auth/login', {
      method: 'POST',
      json: { email: 'admin@example.com', password: 'admin password' },
    });
    expect(login.status).toBe(200);
    const workspaces = await app.api('/api/workspaces', { token: String(login.json.accessToken) });
    expect(workspaces.json.items).toHaveLength(1);
    expect(await ensureFirstOwner(app.ctx)).toEqual({ kind: 'ready' });
  });
});
