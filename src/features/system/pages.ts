import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { App } from '../../platform/http/create-server.ts';

/** Where `npm run build:admin` (run by `npm install` and by `npm start` when missing) writes the panel. */
export const ADMIN_DIST_DIR = fileURLToPath(new URL('../../../admin/dist', import.meta.url));

/**
 * Paths the panel never answers: the API and the other server endpoints keep their own 404s
 * (JSON error shape) instead of getting the panel's HTML.
 */
const SERVER_PREFIXES = ['/api', '/hooks', '/health', '/metrics', '/media', '/share'];

/**
 * The admin panel at `/`: its built files (`admin/dist`) and, for any other GET outside the
 * server's own prefixes, its index.html (client-side routes such as /w/…/bots or
 * /invitations/…). Without a build — a checkout where `npm run build:admin` has not run — the
 * server-rendered setup form and a landing page that says how to build stand in, so the
 * start-up log's setup link works either way. The same routes exist in both cases, so the
 * route table and the OpenAPI document do not depend on the build.
 */
export function registerSystemPages(app: App, options: { distDir?: string } = {}) {
  const distDir = path.resolve(options.distDir ?? ADMIN_DIST_DIR);
  const indexFile = path.join(distDir, 'index.html');
  // Only `reply.sendFile`: the routes below decide what is served (and declare their access).
  void app.register(fastifyStatic, { root: distDir, serve: false });
  const html = { 200: z.string().describe('HTML page') };
  const hasPanel = () => existsSync(indexFile);

  const sendPanel = (reply: FastifyReply) =>
    reply
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(readFileSync(indexFile, 'utf8'));

  app.get(
    '/setup',
    {
      config: { access: 'public' },
      schema: { tags: ['system'], summary: 'First-run setup page', produces: ['text/html'], response: html },
    },
    async (_request, reply) =>
      hasPanel() ? sendPanel(reply) : reply.type('text/html; charset=utf-8').send(SETUP_PAGE),
  );

  app.get(
    '/',
    {
      config: { access: 'public' },
      schema: { tags: ['system'], summary: 'Admin panel', produces: ['text/html'], response: html },
    },
    async (_request, reply) =>
      hasPanel() ? sendPanel(reply) : reply.type('text/html; charset=utf-8').send(LANDING_PAGE),
  );

  app.get(
    '/*',
    {
      config: { access: 'public' },
      schema: {
        tags: ['system'],
        summary: "Admin panel: its static files, and its index.html for the panel's own routes",
        produces: ['text/html'],
        response: html,
      },
      logLevel: 'warn',
    },
    async (request, reply) => {
      const pathname = decodeURIComponent(request.url.split('?')[0] ?? '/');
      if (SERVER_PREFIXES.some((prefix) => pathname === prefix || pathname.startsWith(`${prefix}/`))) {
        return reply.callNotFound();
      }
      if (!hasPanel()) return reply.type('text/html; charset=utf-8').send(LANDING_PAGE);
      const file = path.resolve(distDir, `.${pathname}`);
      if (file.startsWith(`${distDir}${path.sep}`) && file !== indexFile && isFile(file)) {
        // Vite names built assets by content hash: they never change under the same name.
        const immutable = pathname.startsWith('/assets/');
        return reply.sendFile(path.relative(distDir, file), distDir, {
          maxAge: immutable ? '365d' : '1h',
          immutable,
        });
      }
      // A missing asset is a 404, not the panel: a stale tab must not parse HTML as JS.
      if (pathname.startsWith('/assets/')) return reply.callNotFound();
      return sendPanel(reply);
    },
  );
}

/**
 * Builds the admin panel when its build is missing (a clone installed with scripts off, or a
 * deleted dist), so `npm start` alone serves it. A failed build is not fatal: the server
 * starts with the fallback pages, which say how to build.
 */
export function ensureAdminPanelBuilt(distDir: string = ADMIN_DIST_DIR): void {
  if (existsSync(path.join(distDir, 'index.html'))) return;
  const root = path.resolve(distDir, '../..');
  process.stdout.write('The admin panel is not built yet: building it (npm run build:admin)…\n');
  const result = spawnSync('npm', ['run', 'build:admin'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(
      'Building the admin panel failed; the server starts without it. Run `npm run build:admin` to retry.\n',
    );
  }
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
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
  <p>The admin panel is not built yet: run <code>npm run build:admin</code> (or <code>npm install</code>) and reload.</p>
</main></body></html>`;
