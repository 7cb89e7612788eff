/**
 * The peer of `npm run bench -- telegram e2e`: a grammY bot that keeps nothing, as its own
 * process. One Bot per token behind `webhookCallback` (which checks the secret header) on one
 * node:http server; /help is answered with `ctx.reply(ECHO_REPLY)`.
 *
 * Env: TELEGRAM_API_ROOT (the fake Bot API), ECHO_TOKENS (comma-separated bot tokens),
 * ECHO_REPLY (the text to answer /help with). Sets each bot's webhook with a random secret, then
 * prints one JSON line {"url": "http://127.0.0.1:<port>"}. Stops on SIGTERM or when stdin closes.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Bot, webhookCallback } from 'grammy';

const apiRoot = process.env.TELEGRAM_API_ROOT;
const tokens = (process.env.ECHO_TOKENS ?? '').split(',').filter(Boolean);
const reply = process.env.ECHO_REPLY ?? 'help';
if (!apiRoot || tokens.length === 0) throw new Error('TELEGRAM_API_ROOT and ECHO_TOKENS are required');

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;
const handlers = new Map<string, Handler>();
const secrets: string[] = [];
for (const [i, token] of tokens.entries()) {
  const bot = new Bot(token, { client: { apiRoot } });
  bot.command('help', (ctx) => ctx.reply(reply));
  const secret = randomBytes(16).toString('hex');
  secrets.push(secret);
  // Arguments: adapter, onTimeout, timeoutMilliseconds, secretToken.
  handlers.set(`/bot/${i}`, webhookCallback(bot, 'http', 'throw', 10_000, secret));
}

const server = createServer((req, res) => {
  const handler = handlers.get(req.url ?? '');
  if (!handler) {
    res.writeHead(404).end();
    return;
  }
  handler(req, res).catch(() => {
    if (!res.headersSent) res.writeHead(500).end();
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const address = server.address();
if (address === null || typeof address === 'string') throw new Error('no TCP address');
const url = `http://127.0.0.1:${address.port}`;

for (const [i, token] of tokens.entries()) {
  const bot = new Bot(token, { client: { apiRoot } });
  await bot.api.setWebhook(`${url}/bot/${i}`, { secret_token: secrets[i] });
}
process.stdout.write(`${JSON.stringify({ url })}\n`);

const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
