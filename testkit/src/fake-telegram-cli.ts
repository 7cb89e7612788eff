/**
 * Runs a FakeTelegram as a process of its own, so that a benchmark can keep the app, the fake
 * Bot API and the load generator apart (the shape users run), with a small control API beside it.
 *
 * Usage: node --import tsx testkit/src/fake-telegram-cli.ts [--rate-limits on|off] [--port N]
 * Prints one JSON line once listening: {"url": "<Bot API root>", "control": "<control root>"}.
 * Both listen on 127.0.0.1 only. Control API:
 *   POST /bots {"count": N}            registers N bots → {"bots": [{id, token, username}]}
 *   GET  /sent                         → {"count": messages sent by all bots, "at": epoch ms}
 *   GET  /wait-sent?count=N&timeoutMs= resolves once N messages were sent in total →
 *                                      {"count", "at": epoch ms (fractional) when the Nth was recorded}
 *   GET  /webhooks                     → {"webhooks": [{token, url, secretToken}]}: each bot's last
 *                                      setWebhook call as the fake recorded it
 * Stops on SIGTERM / SIGINT or when its parent closes stdin.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { FakeTelegram } from './fake-telegram.ts';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
};

// Benchmarks compare two bots on the same fake: flood control off for both, so neither waits.
const fake = await FakeTelegram.start({
  rateLimits: flag('rate-limits') === 'on' ? {} : false,
  port: Number(flag('port') ?? 0),
});

const now = () => performance.timeOrigin + performance.now();

function answer(response: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(json),
  });
  response.end(json);
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

function countOf(body: unknown): number {
  if (typeof body === 'object' && body !== null && 'count' in body && typeof body.count === 'number')
    return Math.max(0, Math.floor(body.count));
  throw new Error('body must be {"count": number}');
}

/** The last setWebhook call per token: where the bot asked for updates, with which secret. */
function webhooks() {
  const latest = new Map<string, { token: string; url: string; secretToken: string | undefined }>();
  for (const request of fake.requests({ method: 'setWebhook', status: 200 })) {
    const { url, secret_token: secret } = request.params;
    if (typeof url !== 'string') continue;
    latest.set(request.token, {
      token: request.token,
      url,
      secretToken: typeof secret === 'string' ? secret : undefined,
    });
  }
  return [...latest.values()];
}

async function handleControl(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://control');
  if (request.method === 'POST' && url.pathname === '/bots') {
    const count = countOf(await readJson(request));
    const bots = Array.from({ length: count }, () => fake.addBot());
    return answer(response, 200, { bots });
  }
  if (request.method === 'GET' && url.pathname === '/sent')
    return answer(response, 200, { count: fake.sentCount(), at: now() });
  if (request.method === 'GET' && url.pathname === '/wait-sent') {
    const target = Number(url.searchParams.get('count'));
    const timeoutMs = Number(url.searchParams.get('timeoutMs') ?? 60_000);
    // The predicate runs synchronously each time the fake records a sent message, so `at` is
    // when the target-th message was recorded, not when a poll noticed it.
    const at = await fake.waitFor(() => (fake.sentCount() >= target ? now() : 0), timeoutMs);
    return answer(response, 200, { count: fake.sentCount(), at });
  }
  if (request.method === 'GET' && url.pathname === '/webhooks')
    return answer(response, 200, { webhooks: webhooks() });
  answer(response, 404, { error: 'not found' });
}

const control = createServer((request, response) => {
  handleControl(request, response).catch((error: unknown) =>
    answer(response, 500, { error: error instanceof Error ? error.message : String(error) }),
  );
});
await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
const address = control.address();
if (address === null || typeof address === 'string') throw new Error('control server has no TCP address');
process.stdout.write(`${JSON.stringify({ url: fake.url, control: `http://127.0.0.1:${address.port}` })}\n`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  control.closeAllConnections();
  control.close();
  await fake.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
// The parent holds our stdin open: when it goes away (even by SIGKILL), so do we.
process.stdin.on('end', () => void stop());
process.stdin.on('close', () => void stop());
process.stdin.resume();
