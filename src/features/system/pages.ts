import { z } from 'zod';
import type { App } from '../../platform/http/create-server.ts';

/**
 * Server-rendered pages that must work before any panel exists: the first-run setup form
 * the start-up log links to, and a landing page.
 */
export function registerSystemPages(app: App) {
  const html = { 200: z.string().describe('HTML page') };

  app.get(
    '/setup',
    {
      config: { access: 'public' },
      schema: { tags: ['system'], summary: 'First-run setup page', produces: ['text/html'], response: html },
    },
    async (_request, reply) => reply.type('text/html; charset=utf-8').send(SETUP_PAGE),
  );

  app.get(
    '/',
    {
      config: { access: 'public' },
      schema: { tags: ['system'], summary: 'Landing page', produces: ['text/html'], response: html },
    },
    async (_request, reply) => reply.type('text/html; charset=utf-8').send(LANDING_PAGE),
  );
}

const STYLE = `
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: Canvas; }
  main { width: min(420px, 92vw); padding: 32px; border: 1px solid #8884; border-radius: 12px; }
  h1 { margin: 0 0 4px; font-size: 22px; } p { color: GrayText; margin: 0 0 20px; }
  label { display: block; font-size: 14px; margin: 12px 0 4px; }
  input { width: 100%; box-sizing: border-box; padding: 9px 10px; border: 1px solid #8886; border-radius: 8px; font: inherit; }
  button { margin-top: 20px; width: 100%; padding: 10px; border: 0; border-radius: 8px; background: #2563eb; color: white; font: inherit; cursor: pointer; }
  button:disabled { opacity: .6; } .error { color: #dc2626; font-size: 14px; margin-top: 12px; min-height: 1em; }
  a { color: #2563eb; }
`;

const SETUP_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Set up Switchboard</title><style>${STYLE}</style></head>
<body><main>
  <h1>Welcome to Switchboard</h1>
  <p>Create the owner account and your first workspace.</p>
  <form id="setup">
    <label for="name">Your name</label><input id="name" name="name" autocomplete="name">
    <label for="email">Email</label><input id="email" name="email" type="email" required autocomplete="email">
    <label for="password">Password (8+ characters)</label><input id="password" name="password" type="password" minlength="8" required autocomplete="new-password">
    <label for="workspaceName">Workspace name</label><input id="workspaceName" name="workspaceName" required value="My business">
    <button type="submit">Create owner</button>
    <div class="error" role="alert" id="error"></div>
  </form>
</main>
<script>
  const form = document.getElementById('setup');
  const error = document.getElementById('error');
  const token = new URLSearchParams(location.search).get('token') || '';
  fetch('/api/setup').then((r) => r.json()).then((s) => {
    if (!s.needed) { form.innerHTML = '<p>Setup is already complete. <a href="/">Continue</a></p>'; }
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const button = form.querySelector('button');
    button.disabled = true;
    const data = Object.fromEntries(new FormData(form));
    if (!data.name) delete data.name;
    const response = await fetch('/api/setup', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...data, token }) });
    button.disabled = false;
    if (response.ok) { form.innerHTML = '<p>Done. You can now sign in as ' + data.email + '. <a href="/">Continue</a></p>'; return; }
    const body = await response.json().catch(() => ({}));
    error.textContent = (body.error && body.error.message) || 'Setup failed (' + response.status + ')';
  });
</script>
</body></html>`;

const LANDING_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard</title><style>${STYLE}</style></head>
<body><main>
  <h1>Switchboard is running</h1>
  <p>The API is ready. Explore it in the <a href="/api/docs">API reference</a>, or check <a href="/health">health</a>.</p>
</main></body></html>`;
