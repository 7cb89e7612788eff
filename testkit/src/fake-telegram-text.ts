/**
 * Text handling shared by outgoing and incoming messages. Telegram applies its length limits to
 * the text "after entities parsing", i.e. without HTML tags or Markdown markers, and returns that
 * plain text in the Message; the fake approximates the parsing well enough to count characters.
 */
import type { MessageEntity } from '@grammyjs/types';

const HTML_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

/** The text a user would see once parse_mode markup is removed. */
export function visibleText(text: string, parseMode: string | undefined): string {
  if (parseMode === 'HTML') {
    return text
      .replace(/<[^>]*>/g, '')
      .replace(/&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot);/gi, (entity: string, name: string) => {
        if (name.startsWith('#x') || name.startsWith('#X'))
          return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
        if (name.startsWith('#')) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
        return HTML_ENTITIES[name.toLowerCase()] ?? entity;
      });
  }
  if (parseMode === 'MarkdownV2' || parseMode === 'Markdown') {
    // Links keep only their label: [label](url) and ![emoji](tg://emoji?id=...).
    const withoutLinks = text.replace(/!?\[((?:[^\]\\]|\\.)*)\]\((?:[^)\\]|\\.)*\)/g, '$1');
    const markers = parseMode === 'MarkdownV2' ? '*_~|`' : '*_`';
    let plain = '';
    for (let index = 0; index < withoutLinks.length; index++) {
      const char = withoutLinks.charAt(index);
      if (char === '\\' && parseMode === 'MarkdownV2' && index + 1 < withoutLinks.length) {
        plain += withoutLinks.charAt(++index);
      } else if (!markers.includes(char)) {
        plain += char;
      }
    }
    return plain;
  }
  return text;
}

/**
 * Telegram marks commands in incoming messages with `bot_command` entities, and grammY's
 * `bot.command()` matches on those entities rather than on the raw text.
 */
export function botCommandEntities(text: string): MessageEntity[] {
  const entities: MessageEntity[] = [];
  for (const match of text.matchAll(/(^|\s)(\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?)(?=$|\s)/g)) {
    const prefix = match[1] ?? '';
    const command = match[2] ?? '';
    entities.push({
      type: 'bot_command',
      offset: (match.index ?? 0) + prefix.length,
      length: command.length,
    });
  }
  return entities;
}
