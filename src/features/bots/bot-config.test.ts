import { describe, expect, it } from 'vitest';
import {
  botConfigSchema,
  defaultBotConfig,
  isWithinWorkingHours,
  localize,
  readBotConfig,
} from './bot-config.ts';

describe('defaultBotConfig', () => {
  it('gives every field a value, with Russian texts in Russian', () => {
    const config = defaultBotConfig();
    expect(config).toMatchObject({
      language: 'en',
      languages: ['en', 'ru'],
      managerContact: '',
      escalationAction: 'transfer',
      memoryWindow: 10,
      throttle: { perSecond: 1, burst: 5 },
    });
    expect(config.workingHours).toBeUndefined();
    expect(config.systemPrompt.length).toBeGreaterThan(100);
    for (const text of [config.greeting, config.helpText, ...Object.values(config.messages)]) {
      expect(text.en).toMatch(/[A-Za-z]/);
      expect(text.ru).toMatch(/[А-Яа-яЁё]/);
    }
  });

  it('merges partial input over the defaults field by field', () => {
    const config = defaultBotConfig({
      greeting: { ru: 'Добрый день!' },
      throttle: { burst: 10 },
      messages: { throttled: { en: 'Slow down, please.' } },
    });
    expect(config.greeting).toEqual({ en: defaultBotConfig().greeting.en, ru: 'Добрый день!' });
    expect(config.throttle).toEqual({ perSecond: 1, burst: 10 });
    expect(config.messages.throttled.ru).toBe(defaultBotConfig().messages.throttled.ru);
    expect(config.messages.escalated).toEqual(defaultBotConfig().messages.escalated);
  });

  it('is stable: parsing a complete config again changes nothing', () => {
    const config = defaultBotConfig({ language: 'ru', memoryWindow: 0 });
    expect(botConfigSchema.parse(JSON.parse(JSON.stringify(config)))).toEqual(config);
  });

  it('refuses unknown fields, out-of-range numbers and repeated languages', () => {
    expect(botConfigSchema.safeParse({ greting: {} }).success).toBe(false);
    expect(botConfigSchema.safeParse({ memoryWindow: 101 }).success).toBe(false);
    expect(botConfigSchema.safeParse({ throttle: { perSecond: 0 } }).success).toBe(false);
    expect(botConfigSchema.safeParse({ languages: ['en', 'en'] }).success).toBe(false);
    expect(botConfigSchema.safeParse({ language: 'ru', languages: ['en'] }).success).toBe(false);
  });
});

describe('readBotConfig', () => {
  it('drops fields another version wrote and fills in missing ones', () => {
    const stored = {
      memoryWindow: 3,
      retired: true,
      throttle: { burst: 2, legacy: 1 },
      greeting: { en: 'Hi' },
    };
    const config = readBotConfig(stored);
    expect(config).toEqual(
      defaultBotConfig({ memoryWindow: 3, throttle: { burst: 2 }, greeting: { en: 'Hi' } }),
    );
    // The stored value itself is left alone.
    expect(stored.retired).toBe(true);
  });

  it('throws on a stored value that is invalid, not merely unknown', () => {
    expect(() => readBotConfig({ memoryWindow: -1, retired: true })).toThrow();
  });
});

describe('isWithinWorkingHours', () => {
  const workingHours = defaultBotConfig({
    workingHours: {
      timezone: 'Europe/Moscow',
      schedule: {
        mon: [
          { from: '09:00', to: '13:00' },
          { from: '14:00', to: '18:00' },
        ],
        sat: [{ from: '22:00', to: '24:00' }],
      },
    },
  }).workingHours;

  it('is always open without working hours', () => {
    expect(isWithinWorkingHours(undefined, new Date('2025-01-05T03:00:00Z'))).toBe(true);
  });

  it('reads the intervals in the configured time zone', () => {
    // Monday 6 January 2025; Moscow is UTC+3.
    expect(isWithinWorkingHours(workingHours, new Date('2025-01-06T05:59:00Z'))).toBe(false);
    expect(isWithinWorkingHours(workingHours, new Date('2025-01-06T06:00:00Z'))).toBe(true);
    expect(isWithinWorkingHours(workingHours, new Date('2025-01-06T10:30:00Z'))).toBe(false);
    expect(isWithinWorkingHours(workingHours, new Date('2025-01-06T14:59:00Z'))).toBe(true);
    expect(isWithinWorkingHours(workingHours, new Date('2025-01-06T15:00:00Z'))).toBe(false);
    // Saturday 23:30 in Moscow is 20:30 UTC; Sunday is closed.
    expect(isWithinWorkingHours(workingHours, new Date('2025-01-11T20:30:00Z'))).toBe(true);
    expect(isWithinWorkingHours(workingHours, new Date('2025-01-12T10:00:00Z'))).toBe(false);
  });
});

describe('localize', () => {
  it("picks the customer's language and falls back to the bot's", () => {
    const text = { en: 'Hi', ru: 'Привет' };
    expect(localize(text, 'ru', 'en')).toBe('Привет');
    expect(localize(text, 'de', 'ru')).toBe('Привет');
  });
});
