import { useQuery } from '@tanstack/react-query';
import { Check, Copy } from 'lucide-react';
import { useState } from 'react';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import { useT } from '@/i18n';
import { cn } from '@/lib/cn';
import { useWorkspace } from '@/lib/workspace';
import type { BadgeTone } from './ui/badge';
import { Button } from './ui/button';
import { Select } from './ui/input';

/**
 * Pieces shared by the operating screens (dashboard, inbox, escalations, conversations,
 * knowledge, products): names, downloads, the bot/channel filter, a copyable value.
 */
export interface ContactLike {
  firstName?: string | null;
  lastName?: string | null;
  username?: string | null;
  externalId?: string;
}

export function contactName(contact: ContactLike | null | undefined): string {
  if (!contact) return '—';
  const full = [contact.firstName, contact.lastName].filter(Boolean).join(' ').trim();
  if (full) return full;
  if (contact.username) return `@${contact.username}`;
  return contact.externalId ? `#${contact.externalId}` : '—';
}

/** Two letters for an avatar. */
export function initials(name: string): string {
  const clean = name.replace(/^[@#]/, '').trim();
  const parts = clean.split(/\s+/).filter(Boolean);
  return ((parts[0]?.[0] ?? '?') + (parts[1]?.[0] ?? '')).toUpperCase();
}

const AVATAR_TONES = [
  'bg-sky-500/15 text-sky-700 dark:text-sky-300',
  'bg-violet-500/15 text-violet-700 dark:text-violet-300',
  'bg-emerald-500/15 text-emerald-700 dark:text-emerald-300',
  'bg-amber-500/15 text-amber-700 dark:text-amber-300',
  'bg-rose-500/15 text-rose-700 dark:text-rose-300',
  'bg-teal-500/15 text-teal-700 dark:text-teal-300',
];

export function Avatar({ name, seed, className }: { name: string; seed?: string; className?: string }) {
  const key = seed ?? name;
  let hash = 0;
  for (const char of key) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return (
    <span
      className={cn(
        'flex size-9 shrink-0 items-center justify-center rounded-full text-xs font-semibold',
        AVATAR_TONES[hash % AVATAR_TONES.length],
        className,
      )}
      aria-hidden="true"
    >
      {initials(name)}
    </span>
  );
}

/** Saves a Blob as a file in the browser. */
export function saveBlob(blob: Blob, filename: string) {
  const url = URL.createObjectURL(blob);
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = filename;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The workspace's bots, for filters (first 100). */
export function useBots() {
  const { ws } = useWorkspace();
  return useQuery({
    queryKey: ['bots', ws, 'all'],
    queryFn: () =>
      unwrap(api.GET('/api/workspaces/{ws}/bots', { params: { path: { ws }, query: { limit: 100 } } })),
    staleTime: 60_000,
  });
}

/** The channels of one bot, for filters. */
export function useChannels(bot: string) {
  const { ws } = useWorkspace();
  return useQuery({
    queryKey: ['channels', ws, bot],
    enabled: bot !== '',
    queryFn: () =>
      unwrap(api.GET('/api/workspaces/{ws}/bots/{bot}/channels', { params: { path: { ws, bot } } })),
    staleTime: 60_000,
  });
}

/** Bot select and, once a bot is picked, its channel select. */
export function BotChannelFilter({
  bot,
  channel,
  onChange,
  className,
}: {
  bot: string;
  channel: string;
  onChange: (next: { bot: string; channel: string }) => void;
  className?: string;
}) {
  const t = useT();
  const bots = useBots();
  const channels = useChannels(bot);
  return (
    <div className={cn('flex flex-wrap gap-2 sm:flex-nowrap', className)}>
      <Select
        aria-label={t('ops.bot')}
        className="h-9 w-44!"
        value={bot}
        onChange={(event) => onChange({ bot: event.target.value, channel: '' })}
      >
        <option value="">{t('ops.allBots')}</option>
        {bots.data?.items.map((item) => (
          <option key={item.id} value={item.id}>
            {item.name}
          </option>
        ))}
      </Select>
      <Select
        aria-label={t('ops.channel')}
        className="h-9 w-44!"
        value={channel}
        disabled={!bot}
        onChange={(event) => onChange({ bot, channel: event.target.value })}
      >
        <option value="">{t('ops.allChannels')}</option>
        {channels.data?.items.map((item) => (
          <option key={item.id} value={item.id}>
            {channelLabel(item)}
          </option>
        ))}
      </Select>
    </div>
  );
}

function channelLabel(item: { type: string } & Record<string, unknown>): string {
  const username =
    typeof item.username === 'string'
      ? item.username
      : typeof item.botUsername === 'string'
        ? item.botUsername
        : null;
  return username ? `${item.type} · @${username}` : item.type;
}

/** A secret or link shown once, with a copy button. */
export function CopyValue({ value }: { value: string }) {
  const t = useT();
  const [copied, setCopied] = useState(false);
  return (
    <div className="flex items-center gap-2 rounded-lg border bg-muted/50 p-1.5 pl-3">
      <code className="min-w-0 flex-1 truncate font-mono text-[13px]" data-testid="copy-value">
        {value}
      </code>
      <Button
        variant="outline"
        size="sm"
        onClick={async () => {
          await navigator.clipboard?.writeText(value).catch(() => undefined);
          setCopied(true);
          setTimeout(() => setCopied(false), 1500);
        }}
      >
        {copied ? <Check /> : <Copy />} {copied ? t('common.copied') : t('common.copy')}
      </Button>
    </div>
  );
}

/** Seconds as "4 min" / "1 h 20 min". */
export function formatDuration(seconds: number | null | undefined, t: ReturnType<typeof useT>): string {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 60) return t('ops.seconds', { n: Math.round(seconds) });
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return t('ops.minutes', { n: minutes });
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? t('ops.hoursMinutes', { h: hours, m: rest }) : t('ops.hours', { n: hours });
}

export function errorText(error: unknown): string | undefined {
  return error instanceof Error ? error.message : undefined;
}

export const MODE_TONE: Record<string, BadgeTone> = {
  bot: 'neutral',
  waiting: 'warning',
  human: 'primary',
  closed: 'success',
};

export function modeKey(mode: string): 'bot' | 'waiting' | 'human' | 'closed' {
  return mode === 'waiting' || mode === 'human' || mode === 'closed' ? mode : 'bot';
}

/** A thin determinate progress bar (0..1). */
export function ProgressBar({
  value,
  className,
  label,
}: {
  value: number;
  className?: string;
  label?: string;
}) {
  const percent = Math.max(0, Math.min(100, Math.round(value * 100)));
  return (
    <div
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent}
      aria-label={label}
      className={cn('h-1.5 w-full overflow-hidden rounded-full bg-muted', className)}
    >
      <div
        className="h-full rounded-full bg-primary transition-[width] duration-300"
        style={{ width: `${percent}%` }}
      />
    </div>
  );
}

/** Bytes as "12 KB" / "3.4 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
