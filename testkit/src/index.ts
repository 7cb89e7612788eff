export * from './fake-telegram.ts';
export * from './start-app.ts';
export * from './telegram-bot.ts';
export * from './users.ts';
