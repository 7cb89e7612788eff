import { Languages, Monitor, Moon, Sun } from 'lucide-react';
import { LANGUAGES, useI18n } from '@/i18n';
import { type ThemeChoice, useTheme } from '@/lib/theme';
import { Button } from './ui/button';
import {
  Dropdown,
  DropdownContent,
  DropdownLabel,
  DropdownRadioGroup,
  DropdownRadioItem,
  DropdownSeparator,
  DropdownTrigger,
} from './ui/dropdown';

/** Theme and language, for pages without the user menu. */
export function PreferencesMenu() {
  const { t } = useI18n();
  const { choice } = useTheme();
  const Icon = choice === 'dark' ? Moon : choice === 'light' ? Sun : Monitor;
  return (
    <Dropdown>
      <DropdownTrigger asChild>
        <Button variant="ghost" size="icon" aria-label={t('prefs.title')}>
          <Icon />
        </Button>
      </DropdownTrigger>
      <DropdownContent>
        <PreferenceItems />
      </DropdownContent>
    </Dropdown>
  );
}

export function PreferenceItems() {
  const { t, language, setLanguage } = useI18n();
  const { choice, setChoice } = useTheme();
  return (
    <>
      <DropdownLabel>{t('prefs.theme')}</DropdownLabel>
      <DropdownRadioGroup value={choice} onValueChange={(value) => setChoice(toTheme(value))}>
        <DropdownRadioItem value="light">
          <Sun /> {t('prefs.light')}
        </DropdownRadioItem>
        <DropdownRadioItem value="dark">
          <Moon /> {t('prefs.dark')}
        </DropdownRadioItem>
        <DropdownRadioItem value="system">
          <Monitor /> {t('prefs.system')}
        </DropdownRadioItem>
      </DropdownRadioGroup>
      <DropdownSeparator />
      <DropdownLabel>
        <span className="inline-flex items-center gap-1.5">
          <Languages className="size-3.5" /> {t('prefs.language')}
        </span>
      </DropdownLabel>
      <DropdownRadioGroup
        value={language}
        onValueChange={(value) => setLanguage(value === 'ru' ? 'ru' : 'en')}
      >
        {LANGUAGES.map((item) => (
          <DropdownRadioItem key={item.code} value={item.code}>
            {item.name}
          </DropdownRadioItem>
        ))}
      </DropdownRadioGroup>
    </>
  );
}

function toTheme(value: string): ThemeChoice {
  return value === 'light' || value === 'dark' ? value : 'system';
}
