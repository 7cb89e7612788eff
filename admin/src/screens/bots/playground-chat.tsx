import { useMutation } from '@tanstack/react-query';
import { Bot, Info, RotateCcw, SendHorizontal, Sparkles } from 'lucide-react';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import type { components } from '@/api/schema';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { Select } from '@/components/ui/input';
import { useT } from '@/i18n';
import { cn } from '@/lib/cn';
import { useWorkspace } from '@/lib/workspace';
import type { BotConfig } from './config-editor';

type BotMessage = components['schemas']['PlaygroundMessage'];
type Turn = { direction: 'in' | 'out'; text: string };
type Entry =
  | { id: number; from: 'customer'; text: string }
  | { id: number; from: 'bot'; message: BotMessage };

/**
 * Chat with the config being edited (unsaved changes included), through the same responder
 * customers get. Nothing is stored; the conversation lives in this component.
 */
export function PlaygroundChat({ botId, config }: { botId: string; config: BotConfig | null }) {
  const t = useT();
  const { ws } = useWorkspace();
  const [entries, setEntries] = useState<Entry[]>([]);
  const [text, setText] = useState('');
  const [language, setLanguage] = useState<'en' | 'ru'>(config?.language ?? 'en');
  const nextId = useRef(1);
  const scroller = useRef<HTMLDivElement>(null);
  const send = useMutation({
    mutationFn: (input: { text?: string; callbackData?: string }) =>
      unwrap(
        api.POST('/api/workspaces/{ws}/bots/{bot}/playground', {
          params: { path: { ws, bot: botId } },
          body: {
            ...input,
            language,
            history: entries.flatMap((entry): Turn[] =>
              entry.from === 'customer'
                ? [{ direction: 'in', text: entry.text }]
                : entry.message.type === 'text'
                  ? [{ direction: 'out', text: entry.message.text }]
                  : [],
            ),
            ...(config ? { config } : {}),
          },
        }),
      ),
    onSuccess: (result) =>
      setEntries((list) => [
        ...list,
        ...result.messages.map((message) => ({ id: nextId.current++, from: 'bot' as const, message })),
      ]),
  });
  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll when a message or the typing dots appear
  useEffect(() => {
    scroller.current?.scrollTo({ top: scroller.current.scrollHeight, behavior: 'smooth' });
  }, [entries.length, send.isPending]);

  const say = (value: string, callbackData?: string) => {
    setEntries((list) => [...list, { id: nextId.current++, from: 'customer', text: value }]);
    send.mutate(callbackData ? { callbackData } : { text: value });
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const value = text.trim();
    if (!value || send.isPending) return;
    setText('');
    say(value);
  };

  return (
    <Card className="flex h-[640px] max-h-[80vh] flex-col overflow-hidden" aria-label={t('playground.title')}>
      <div className="flex items-center gap-2 border-b px-4 py-3">
        <Sparkles className="size-4 text-primary" />
        <div className="min-w-0 flex-1">
          <h2 className="text-[15px] font-semibold">{t('playground.title')}</h2>
          <p className="truncate text-xs text-muted-foreground">{t('playground.hint')}</p>
        </div>
        <Select
          aria-label={t('prefs.language')}
          className="h-8 w-20 text-xs"
          value={language}
          onChange={(event) => setLanguage(event.target.value === 'ru' ? 'ru' : 'en')}
        >
          <option value="en">EN</option>
          <option value="ru">RU</option>
        </Select>
        <Button
          variant="ghost"
          size="icon"
          className="size-8"
          aria-label={t('playground.reset')}
          onClick={() => setEntries([])}
        >
          <RotateCcw />
        </Button>
      </div>
      <div
        ref={scroller}
        className="flex-1 space-y-3 overflow-y-auto bg-muted/30 px-4 py-4"
        aria-live="polite"
      >
        {entries.length === 0 && (
          <div className="flex h-full flex-col items-center justify-center gap-3 text-center">
            <div className="flex size-11 items-center justify-center rounded-full bg-primary/10 text-primary">
              <Bot className="size-5" />
            </div>
            <p className="max-w-56 text-sm text-muted-foreground">{t('playground.empty')}</p>
            <div className="flex flex-wrap justify-center gap-2">
              {['/start', '/help', t('playground.sampleQuestion')].map((sample) => (
                <Button key={sample} variant="outline" size="sm" onClick={() => say(sample)}>
                  {sample}
                </Button>
              ))}
            </div>
          </div>
        )}
        {entries.map((entry) =>
          entry.from === 'customer' ? (
            <div key={entry.id} className="flex justify-end">
              <p className="max-w-[85%] rounded-2xl rounded-br-md bg-primary px-3.5 py-2 text-sm whitespace-pre-wrap text-primary-foreground shadow-sm">
                {entry.text}
              </p>
            </div>
          ) : (
            <BotBubble
              key={entry.id}
              message={entry.message}
              onButton={(button) => say(button.text, button.callbackData)}
            />
          ),
        )}
        {send.isPending && (
          <div className="flex gap-1 px-1" role="status" aria-label={t('playground.typing')}>
            {[0, 1, 2].map((dot) => (
              <span
                key={dot}
                className="size-2 animate-bounce rounded-full bg-muted-foreground/50"
                style={{ animationDelay: `${dot * 120}ms` }}
              />
            ))}
          </div>
        )}
        {send.isError && (
          <p className="text-sm text-destructive" role="alert">
            {send.error.message}
          </p>
        )}
      </div>
      <form onSubmit={submit} className="flex gap-2 border-t bg-card p-3">
        <input
          className="h-9 min-w-0 flex-1 rounded-full border border-input bg-background px-4 text-sm outline-none focus-visible:border-ring focus-visible:ring-3 focus-visible:ring-ring/20"
          placeholder={t('playground.placeholder')}
          aria-label={t('playground.placeholder')}
          value={text}
          onChange={(event) => setText(event.target.value)}
        />
        <Button
          type="submit"
          size="icon"
          className="rounded-full"
          aria-label={t('playground.send')}
          disabled={!text.trim() || send.isPending}
        >
          <SendHorizontal />
        </Button>
      </form>
    </Card>
  );
}

function BotBubble({
  message,
  onButton,
}: {
  message: BotMessage;
  onButton: (button: { text: string; callbackData: string }) => void;
}) {
  if (message.type === 'note') {
    return (
      <p className="mx-auto flex w-fit items-center gap-1.5 rounded-full bg-warning/15 px-3 py-1 text-xs text-foreground/80">
        <Info className="size-3.5" /> {message.text}
      </p>
    );
  }
  const buttons = message.buttons ?? [];
  return (
    <div className="flex max-w-[85%] flex-col gap-1.5">
      <div className={cn('overflow-hidden rounded-2xl rounded-bl-md border bg-card text-sm shadow-sm')}>
        {message.type === 'photo' && (
          <img src={message.photo} alt="" className="max-h-48 w-full object-cover" loading="lazy" />
        )}
        {(message.type === 'text' ? message.text : message.caption) && (
          <p className="px-3.5 py-2 whitespace-pre-wrap">
            {message.type === 'text' ? message.text : message.caption}
          </p>
        )}
      </div>
      {buttons.map((row, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: keyboard rows are positional
        <div key={index} className="flex gap-1.5">
          {row.map((button) => (
            <Button
              key={button.callbackData}
              variant="outline"
              size="sm"
              className="flex-1"
              onClick={() => onButton(button)}
            >
              {button.text}
            </Button>
          ))}
        </div>
      ))}
    </div>
  );
}
