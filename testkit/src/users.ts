import type { TestApp } from './start-app.ts';

export interface TestUser {
  id: string;
  email: string;
  password: string;
  token: string;
}

let counter = 0;

/** Registers a fresh user through the API and returns their access token. */
export async function signUp(
  app: TestApp,
  options: { email?: string; password?: string; name?: string } = {},
): Promise<TestUser> {
  counter += 1;
  const email = options.email ?? `user${counter}-${Date.now()}@example.com`;
  const password = options.password ?? 'correct horse battery';
  const response = await app.api('/api/auth/register', {
    method: 'POST',
    json: { email, password, ...(options.name ? { name: options.name } : {}) },
  });
  if (response.status !== 201)
    throw new Error(`sign-up failed: ${response.status} ${JSON.stringify(response.body)}`);
  const user = response.json.user;
  const id = typeof user === 'object' && user !== null && 'id' in user ? String(user.id) : '';
  return { id, email, password, token: String(response.json.accessToken) };
}

/** Creates a workspace as `user` and returns its id. */
export async function createTestWorkspace(app: TestApp, user: TestUser, name = 'Acme'): Promise<string> {
  const response = await app.api('/api/workspaces', { method: 'POST', token: user.token, json: { name } });
  if (response.status !== 201)
    throw new Error(`workspace failed: ${response.status} ${JSON.stringify(response.body)}`);
  return String(response.json.id);
}

/** Invites `email` with `role` into the workspace and signs the invitee up through the link. */
export async function addMember(
  app: TestApp,
  owner: TestUser,
  workspaceId: string,
  role: 'viewer' | 'operator' | 'admin' | 'owner',
): Promise<TestUser> {
  counter += 1;
  const email = `${role}${counter}-${Date.now()}@example.com`;
  const invited = await app.api(`/api/workspaces/${workspaceId}/invitations`, {
    method: 'POST',
    token: owner.token,
    json: { email, role },
  });
  if (invited.status !== 201)
    throw new Error(`invite failed: ${invited.status} ${JSON.stringify(invited.body)}`);
  const password = 'correct horse battery';
  const registered = await app.api('/api/auth/register', {
    method: 'POST',
    json: { invitationToken: invited.json.token, password },
  });
  if (registered.status !== 201)
    throw new Error(`accept failed: ${registered.status} ${JSON.stringify(registered.body)}`);
  const user = registered.json.user;
  const id = typeof user === 'object' && user !== null && 'id' in user ? String(user.id) : '';
  return { id, email, password, token: String(registered.json.accessToken) };
}
