export * from './fake-openai.ts';
export * from './fake-telegram.ts';
export * from './sse-client.ts';
export * from './start-app.ts';
export * from './telegram-bot.ts';
export * from './users.ts';
