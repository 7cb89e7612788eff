/**
 * The JSON body of a private-chat text update as Telegram posts it to a webhook (a leading
 * `/` marks a bot command). Shared by the in-process and the e2e Telegram benches; imports
 * nothing from src/, so the e2e bench stays independent of the server's code.
 */
export function textUpdateBody(updateId: number, chatId: number, text: string): string {
  return JSON.stringify({
    update_id: updateId,
    message: {
      message_id: updateId,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chatId, type: 'private', first_name: 'Ann' },
      from: { id: chatId, is_bot: false, first_name: 'Ann', language_code: 'en' },
      text,
      ...(text.startsWith('/')
        ? { entities: [{ type: 'bot_command', offset: 0, length: text.length }] }
        : {}),
    },
  });
}
