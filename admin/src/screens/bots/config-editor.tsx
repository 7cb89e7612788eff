import { type BotConfig, botConfigSchema } from '@server/features/bots/bot-config.ts';
import { Clock, Plus, Trash2, X } from 'lucide-react';
import { type ReactNode, useState } from 'react';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { Field, Input, Label, Select, Textarea } from '@/components/ui/input';
import { Switch } from '@/components/ui/switch';
import { useT } from '@/i18n';
import type { MessageKey } from '@/i18n/en';
import { issuesToFields } from '@/lib/form';

export type { BotConfig };

/** Validates with the API's own schema; errors keyed by dotted path (`greeting.en`). */
export function validateConfig(config: BotConfig): Record<string, string> {
  const result = botConfigSchema.safeParse(config);
  return result.success ? {} : issuesToFields(result.error.issues);
}

type Update = (change: (config: BotConfig) => BotConfig) => void;

interface EditorProps {
  config: BotConfig;
  onChange: Update;
  errors: Record<string, string>;
  readOnly: boolean;
}

/**
 * The bot's behaviour, section by section. Fields it does not show (the assistant's, for
 * instance) pass through untouched, so saving never drops what another screen set.
 */
export function ConfigEditor({ config, onChange, errors, readOnly }: EditorProps) {
  const t = useT();
  return (
    <fieldset disabled={readOnly} className="grid min-w-0 gap-6">
      <Section title={t('config.prompt')} description={t('config.promptHint')}>
        <Field label={t('config.systemPrompt')} error={errors.systemPrompt}>
          {(props) => (
            <Textarea
              {...props}
              rows={7}
              className="font-mono text-[13px]"
              value={config.systemPrompt}
              onChange={(event) => onChange((c) => ({ ...c, systemPrompt: event.target.value }))}
            />
          )}
        </Field>
      </Section>

      <Section title={t('config.texts')} description={t('config.textsHint')}>
        <div className="grid gap-5">
          <Localized
            label={t('config.greeting')}
            value={config.greeting}
            errors={errors}
            path="greeting"
            onChange={(greeting) => onChange((c) => ({ ...c, greeting }))}
          />
          <Localized
            label={t('config.helpText')}
            value={config.helpText}
            errors={errors}
            path="helpText"
            onChange={(helpText) => onChange((c) => ({ ...c, helpText }))}
            rows={5}
          />
          <MessagesEditor config={config} onChange={onChange} errors={errors} />
        </div>
      </Section>

      <Section title={t('config.languageAndContacts')}>
        <div className="grid gap-5 sm:grid-cols-2">
          <Field label={t('config.defaultLanguage')} error={errors.language}>
            {(props) => (
              <Select
                {...props}
                value={config.language}
                onChange={(event) =>
                  onChange((c) => ({ ...c, language: event.target.value === 'ru' ? 'ru' : 'en' }))
                }
              >
                <option value="en">English</option>
                <option value="ru">Русский</option>
              </Select>
            )}
          </Field>
          <div className="grid gap-1.5">
            <Label>{t('config.languages')}</Label>
            <div className="flex h-9 items-center gap-4">
              {(['en', 'ru'] as const).map((code) => (
                <label key={code} className="inline-flex items-center gap-2 text-sm">
                  <input
                    type="checkbox"
                    className="size-4 accent-[var(--primary)]"
                    checked={config.languages.includes(code)}
                    onChange={(event) =>
                      onChange((c) => ({
                        ...c,
                        languages: event.target.checked
                          ? [...c.languages.filter((item) => item !== code), code]
                          : c.languages.filter((item) => item !== code),
                      }))
                    }
                  />
                  {code === 'en' ? 'English' : 'Русский'}
                </label>
              ))}
            </div>
            {errors.languages && <p className="text-[13px] text-destructive">{errors.languages}</p>}
          </div>
          <Field
            label={t('config.managerContact')}
            hint={t('config.managerContactHint')}
            error={errors.managerContact}
            className="sm:col-span-2"
          >
            {(props) => (
              <Input
                {...props}
                placeholder="+7 900 000-00-00, @manager"
                value={config.managerContact}
                onChange={(event) => onChange((c) => ({ ...c, managerContact: event.target.value }))}
              />
            )}
          </Field>
        </div>
      </Section>

      <Section title={t('config.escalation')} description={t('config.escalationHint')}>
        <div className="grid gap-5">
          <Field label={t('config.escalationAction')} error={errors.escalationAction}>
            {(props) => (
              <Select
                {...props}
                value={config.escalationAction}
                onChange={(event) => {
                  const value = event.target.value;
                  onChange((c) => ({
                    ...c,
                    escalationAction: value === 'notify' || value === 'log_only' ? value : 'transfer',
                  }));
                }}
              >
                <option value="transfer">{t('config.action.transfer')}</option>
                <option value="notify">{t('config.action.notify')}</option>
                <option value="log_only">{t('config.action.log_only')}</option>
              </Select>
            )}
          </Field>
          <KeywordsInput
            label={t('config.keywords')}
            hint={t('config.keywordsHint')}
            value={config.escalationKeywords}
            error={
              errors.escalationKeywords ??
              Object.entries(errors).find(([key]) => key.startsWith('escalationKeywords.'))?.[1]
            }
            onChange={(escalationKeywords) => onChange((c) => ({ ...c, escalationKeywords }))}
          />
        </div>
      </Section>

      <Section title={t('config.behaviour')}>
        <div className="grid gap-5 sm:grid-cols-3">
          <Field
            label={t('config.memoryWindow')}
            hint={t('config.memoryWindowHint')}
            error={errors.memoryWindow}
          >
            {(props) => (
              <Input
                {...props}
                type="number"
                min={0}
                max={100}
                value={config.memoryWindow}
                onChange={(event) => onChange((c) => ({ ...c, memoryWindow: numberOf(event.target.value) }))}
              />
            )}
          </Field>
          <Field
            label={t('config.throttlePerSecond')}
            hint={t('config.throttlePerSecondHint')}
            error={errors['throttle.perSecond']}
          >
            {(props) => (
              <Input
                {...props}
                type="number"
                min={0.1}
                step={0.1}
                value={config.throttle.perSecond}
                onChange={(event) =>
                  onChange((c) => ({
                    ...c,
                    throttle: { ...c.throttle, perSecond: numberOf(event.target.value) },
                  }))
                }
              />
            )}
          </Field>
          <Field
            label={t('config.throttleBurst')}
            hint={t('config.throttleBurstHint')}
            error={errors['throttle.burst']}
          >
            {(props) => (
              <Input
                {...props}
                type="number"
                min={1}
                value={config.throttle.burst}
                onChange={(event) =>
                  onChange((c) => ({
                    ...c,
                    throttle: { ...c.throttle, burst: numberOf(event.target.value) },
                  }))
                }
              />
            )}
          </Field>
        </div>
      </Section>

      <WorkingHoursEditor config={config} onChange={onChange} errors={errors} />
    </fieldset>
  );
}

function numberOf(value: string): number {
  return value === '' ? Number.NaN : Number(value);
}

function Section({
  title,
  description,
  children,
  actions,
}: {
  title: ReactNode;
  description?: ReactNode;
  children: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <Card>
      <CardHeader title={title} description={description} actions={actions} />
      <CardBody>{children}</CardBody>
    </Card>
  );
}

function Localized({
  label,
  value,
  onChange,
  errors,
  path,
  rows = 3,
}: {
  label: ReactNode;
  value: { en: string; ru: string };
  onChange: (value: { en: string; ru: string }) => void;
  errors: Record<string, string>;
  path: string;
  rows?: number;
}) {
  return (
    <div className="grid gap-2">
      <p className="text-sm font-medium">{label}</p>
      <div className="grid gap-3 md:grid-cols-2">
        {(['en', 'ru'] as const).map((code) => (
          <Field
            key={code}
            label={
              <span className="text-xs font-medium text-muted-foreground uppercase">
                {code === 'en' ? 'English' : 'Русский'}
              </span>
            }
            error={errors[`${path}.${code}`]}
          >
            {(props) => (
              <Textarea
                {...props}
                name={`${path}.${code}`}
                rows={rows}
                lang={code}
                value={value[code]}
                onChange={(event) => onChange({ ...value, [code]: event.target.value })}
              />
            )}
          </Field>
        ))}
      </div>
    </div>
  );
}

const MESSAGE_KEYS = [
  'escalated',
  'waitingForHuman',
  'operatorJoined',
  'resolved',
  'backToBot',
  'offHours',
  'throttled',
  'fallback',
  'media',
  'unknownCommand',
  'chooseLanguage',
  'languageChanged',
  'error',
] as const;
type MessageName = (typeof MESSAGE_KEYS)[number];

function MessagesEditor({
  config,
  onChange,
  errors,
}: {
  config: BotConfig;
  onChange: Update;
  errors: Record<string, string>;
}) {
  const t = useT();
  const [selected, setSelected] = useState<MessageName>('escalated');
  const hasError = (key: string) => Object.keys(errors).some((path) => path.startsWith(`messages.${key}.`));
  return (
    <div className="grid gap-3 rounded-lg border border-dashed p-4">
      <Field label={t('config.otherMessages')} hint={t(`config.message.${selected}` satisfies MessageKey)}>
        {(props) => (
          <Select
            {...props}
            value={selected}
            onChange={(event) =>
              setSelected(MESSAGE_KEYS.find((key) => key === event.target.value) ?? 'escalated')
            }
          >
            {MESSAGE_KEYS.map((key) => (
              <option key={key} value={key}>
                {key}
                {hasError(key) ? ' ⚠' : ''}
              </option>
            ))}
          </Select>
        )}
      </Field>
      <Localized
        label={<code className="text-xs text-muted-foreground">messages.{selected}</code>}
        value={config.messages[selected]}
        errors={errors}
        path={`messages.${selected}`}
        onChange={(value) => onChange((c) => ({ ...c, messages: { ...c.messages, [selected]: value } }))}
      />
    </div>
  );
}

function KeywordsInput({
  label,
  hint,
  value,
  onChange,
  error,
}: {
  label: ReactNode;
  hint: ReactNode;
  value: string[];
  onChange: (value: string[]) => void;
  error?: string | undefined;
}) {
  const t = useT();
  const [draft, setDraft] = useState('');
  const add = () => {
    const words = draft
      .split(',')
      .map((word) => word.trim())
      .filter((word) => word && !value.includes(word));
    if (words.length) onChange([...value, ...words]);
    setDraft('');
  };
  return (
    <div className="grid gap-1.5">
      <Label htmlFor="keywords-input">{label}</Label>
      <div className="flex min-h-9 flex-wrap items-center gap-1.5 rounded-md border border-input bg-card px-2 py-1.5 shadow-xs focus-within:border-ring focus-within:ring-3 focus-within:ring-ring/20">
        {value.map((word) => (
          <Badge key={word} tone="primary" className="gap-1 py-1 pr-1">
            {word}
            <button
              type="button"
              className="rounded-full p-0.5 hover:bg-primary/20"
              aria-label={t('config.removeKeyword', { word })}
              onClick={() => onChange(value.filter((item) => item !== word))}
            >
              <X className="size-3" />
            </button>
          </Badge>
        ))}
        <input
          id="keywords-input"
          className="min-w-32 flex-1 bg-transparent px-1 text-sm outline-none placeholder:text-muted-foreground/70"
          placeholder={t('config.addKeyword')}
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === 'Enter' || event.key === ',') {
              event.preventDefault();
              add();
            } else if (event.key === 'Backspace' && !draft && value.length) {
              onChange(value.slice(0, -1));
            }
          }}
          onBlur={add}
        />
      </div>
      {error ? (
        <p className="text-[13px] text-destructive">{error}</p>
      ) : (
        <p className="text-[13px] text-muted-foreground">{hint}</p>
      )}
    </div>
  );
}

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

function WorkingHoursEditor({
  config,
  onChange,
  errors,
}: {
  config: BotConfig;
  onChange: Update;
  errors: Record<string, string>;
}) {
  const t = useT();
  const hours = config.workingHours;
  const enabled = hours !== undefined;
  const toggle = (on: boolean) =>
    onChange((c) => {
      if (!on) {
        const { workingHours: _, ...rest } = c;
        return rest;
      }
      const weekday = [{ from: '09:00', to: '18:00' }];
      return {
        ...c,
        workingHours: {
          timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
          schedule: {
            mon: weekday,
            tue: weekday,
            wed: weekday,
            thu: weekday,
            fri: weekday,
            sat: [],
            sun: [],
          },
        },
      };
    });
  return (
    <Section
      title={
        <span className="inline-flex items-center gap-2">
          <Clock className="size-4 text-muted-foreground" /> {t('config.workingHours')}
        </span>
      }
      description={t('config.workingHoursHint')}
      actions={<Switch checked={enabled} onCheckedChange={toggle} aria-label={t('config.workingHours')} />}
    >
      {!hours ? (
        <p className="text-sm text-muted-foreground">{t('config.alwaysOpen')}</p>
      ) : (
        <div className="grid gap-4">
          <Field label={t('field.timezone')} error={errors['workingHours.timezone']} className="max-w-xs">
            {(props) => (
              <Input
                {...props}
                value={hours.timezone}
                onChange={(event) =>
                  onChange((c) =>
                    c.workingHours
                      ? { ...c, workingHours: { ...c.workingHours, timezone: event.target.value } }
                      : c,
                  )
                }
              />
            )}
          </Field>
          <div className="divide-y rounded-lg border">
            {DAYS.map((day) => {
              const intervals = hours.schedule[day];
              const setDay = (next: typeof intervals) =>
                onChange((c) =>
                  c.workingHours
                    ? {
                        ...c,
                        workingHours: {
                          ...c.workingHours,
                          schedule: { ...c.workingHours.schedule, [day]: next },
                        },
                      }
                    : c,
                );
              const dayError = Object.entries(errors).find(([key]) =>
                key.startsWith(`workingHours.schedule.${day}`),
              )?.[1];
              return (
                <div key={day} className="flex flex-wrap items-center gap-3 px-4 py-2.5">
                  <span className="w-24 text-sm font-medium">{t(`day.${day}`)}</span>
                  <div className="flex flex-1 flex-wrap items-center gap-2">
                    {intervals.length === 0 && (
                      <span className="text-sm text-muted-foreground">{t('config.closed')}</span>
                    )}
                    {intervals.map((interval, index) => (
                      // biome-ignore lint/suspicious/noArrayIndexKey: intervals have no identity but their position
                      <span key={index} className="inline-flex items-center gap-1.5">
                        <Input
                          aria-label={t('config.from')}
                          className="h-8 w-20 text-center"
                          value={interval.from}
                          onChange={(event) =>
                            setDay(
                              intervals.map((item, i) =>
                                i === index ? { ...item, from: event.target.value } : item,
                              ),
                            )
                          }
                        />
                        <span className="text-muted-foreground">–</span>
                        <Input
                          aria-label={t('config.to')}
                          className="h-8 w-20 text-center"
                          value={interval.to}
                          onChange={(event) =>
                            setDay(
                              intervals.map((item, i) =>
                                i === index ? { ...item, to: event.target.value } : item,
                              ),
                            )
                          }
                        />
                        <Button
                          variant="ghost"
                          size="icon"
                          className="size-8"
                          aria-label={t('common.remove')}
                          onClick={() => setDay(intervals.filter((_, i) => i !== index))}
                        >
                          <Trash2 />
                        </Button>
                      </span>
                    ))}
                    <Button
                      variant="ghost"
                      size="sm"
                      onClick={() => setDay([...intervals, { from: '09:00', to: '18:00' }])}
                    >
                      <Plus /> {t('config.addInterval')}
                    </Button>
                  </div>
                  {dayError && <p className="w-full text-[13px] text-destructive">{dayError}</p>}
                </div>
              );
            })}
          </div>
        </div>
      )}
    </Section>
  );
}
