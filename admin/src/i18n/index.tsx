import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from 'react';
import { en, type MessageKey } from './en';
import { ru } from './ru';

/**
 * A small typed dictionary: `t('bots.title')`; `{name}` placeholders are filled from the
 * second argument. Every key exists in every language (ru.ts is typed by en.ts), so a missing
 * translation is a compile error.
 */
export type Language = 'en' | 'ru';
export const LANGUAGES: Array<{ code: Language; name: string }> = [
  { code: 'en', name: 'English' },
  { code: 'ru', name: 'Русский' },
];

const dictionaries: Record<Language, Record<MessageKey, string>> = { en, ru };
const STORAGE_KEY = 'sb-language';

export type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;

interface I18n {
  language: Language;
  setLanguage: (language: Language) => void;
  t: Translate;
}

const I18nContext = createContext<I18n | null>(null);

function initialLanguage(): Language {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved === 'en' || saved === 'ru') return saved;
  return navigator.language.toLowerCase().startsWith('ru') ? 'ru' : 'en';
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [language, setLanguageState] = useState<Language>(initialLanguage);
  const setLanguage = useCallback((next: Language) => {
    localStorage.setItem(STORAGE_KEY, next);
    document.documentElement.lang = next;
    setLanguageState(next);
  }, []);
  const t = useCallback<Translate>(
    (key, values) => {
      const template = dictionaries[language][key] ?? en[key];
      if (!values) return template;
      return template.replace(/\{(\w+)\}/g, (match, name: string) =>
        name in values ? String(values[name]) : match,
      );
    },
    [language],
  );
  const value = useMemo(() => ({ language, setLanguage, t }), [language, setLanguage, t]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error('useI18n outside I18nProvider');
  return value;
}

export function useT(): Translate {
  return useI18n().t;
}

/** Date and time in the panel's language. */
export function useFormat() {
  const { language } = useI18n();
  return useMemo(() => {
    const locale = language === 'ru' ? 'ru-RU' : 'en-US';
    const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
    const date = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' });
    const relative = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
    return {
      dateTime: (value: string | null | undefined) => (value ? dateTime.format(new Date(value)) : '—'),
      date: (value: string | null | undefined) => (value ? date.format(new Date(value)) : '—'),
      ago: (value: string | null | undefined) => {
        if (!value) return '—';
        const seconds = (new Date(value).getTime() - Date.now()) / 1000;
        const units: Array<[Intl.RelativeTimeFormatUnit, number]> = [
          ['day', 86400],
          ['hour', 3600],
          ['minute', 60],
        ];
        for (const [unit, size] of units) {
          if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
        }
        return relative.format(Math.round(seconds), 'second');
      },
      number: (value: number) => value.toLocaleString(locale),
    };
  }, [language]);
}
