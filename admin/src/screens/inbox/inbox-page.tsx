import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  ArrowLeft,
  CheckCircle2,
  Hand,
  Inbox,
  MessageSquareQuote,
  Radio,
  Send,
  StickyNote,
  Undo2,
} from 'lucide-react';
import { type KeyboardEvent, useEffect, useMemo, useState } from 'react';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import { ConversationThread, messagesKey } from '@/components/conversation-thread';
import { Avatar, contactName, errorText, MODE_TONE, modeKey } from '@/components/ops';
import { PageHeader, QueryError } from '@/components/page';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { Confirm } from '@/components/ui/dialog';
import {
  Dropdown,
  DropdownContent,
  DropdownItem,
  DropdownLabel,
  DropdownTrigger,
} from '@/components/ui/dropdown';
import { EmptyState } from '@/components/ui/empty-state';
import { Skeleton } from '@/components/ui/skeleton';
import { Switch } from '@/components/ui/switch';
import { toast } from '@/components/ui/toast';
import { useFormat, useT } from '@/i18n';
import { useMe } from '@/lib/auth';
import { cn } from '@/lib/cn';
import { type RealtimeStatus, useRealtime } from '@/lib/realtime';
import { useWorkspace } from '@/lib/workspace';
import { EscalationNotes } from '../escalations/escalation-notes';

type Tab = 'waiting' | 'mine' | 'active';
const OPEN = 'pending,contacted,in_progress';
const HEARTBEAT_MS = 30_000;

interface InboxItem {
  conversationId: string;
  name: string;
  seed: string;
  preview: string | null;
  at: string | null;
  mode: string;
  escalationId?: string;
  overdue?: boolean;
}

/**
 * The operators' home: conversations waiting for a person, the ones assigned to me, and
 * everything a person holds now; beside the list, the selected conversation with its history,
 * the composer and the handoff actions. Live: the workspace's event stream refreshes both.
 */
export default function InboxPage() {
  const t = useT();
  const { ws } = useWorkspace();
  const queryClient = useQueryClient();
  const [tab, setTab] = useState<Tab>('waiting');
  const [selected, setSelected] = useState<string | null>(null);
  const live = useRealtime(ws, (type, data) => {
    const conversationId = typeof data.conversationId === 'string' ? data.conversationId : undefined;
    if (type === 'reset') {
      void queryClient.invalidateQueries({ queryKey: ['inbox', ws] });
      void queryClient.invalidateQueries({ queryKey: ['messages', ws] });
      return;
    }
    if ((type === 'message.created' || type === 'message.status') && conversationId) {
      void queryClient.invalidateQueries({ queryKey: messagesKey(ws, conversationId) });
    }
    if (type === 'escalation.note')
      void queryClient.invalidateQueries({ queryKey: ['escalation-notes', ws] });
    if (type !== 'presence') {
      void queryClient.invalidateQueries({ queryKey: ['inbox', ws] });
      if (conversationId)
        void queryClient.invalidateQueries({ queryKey: ['conversation', ws, conversationId] });
    }
    // Presence carries each operator's count of chats: a takeover, release or assignment moves it.
    if (!type.startsWith('message.')) void queryClient.invalidateQueries({ queryKey: ['presence', ws] });
  });
  // Each list pages by cursor: the first page on load and on every live event, more on demand.
  const waiting = useInfiniteQuery({
    queryKey: ['inbox', ws, 'waiting'],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/api/workspaces/{ws}/conversations', {
          params: { path: { ws }, query: { mode: 'waiting', limit: 50, cursor: pageParam } },
        }),
      ),
    getNextPageParam: (page) => page.nextCursor ?? undefined,
    select: (data) => ({ items: data.pages.flatMap((page) => page.items) }),
  });
  const active = useInfiniteQuery({
    queryKey: ['inbox', ws, 'active'],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/api/workspaces/{ws}/conversations', {
          params: { path: { ws }, query: { mode: 'human', limit: 50, cursor: pageParam } },
        }),
      ),
    getNextPageParam: (page) => page.nextCursor ?? undefined,
    select: (data) => ({ items: data.pages.flatMap((page) => page.items) }),
  });
  const open = useInfiniteQuery({
    queryKey: ['inbox', ws, 'escalations'],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/api/workspaces/{ws}/escalations', {
          params: { path: { ws }, query: { status: OPEN, limit: 100, cursor: pageParam } },
        }),
      ),
    getNextPageParam: (page) => page.nextCursor ?? undefined,
    select: (data) => ({ items: data.pages.flatMap((page) => page.items) }),
  });
  const me = useMe();
  const myId = me.data?.user.id;
  const escalationOf = useMemo(() => {
    const map = new Map<string, NonNullable<typeof open.data>['items'][number]>();
    for (const item of open.data?.items ?? [])
      if (!map.has(item.conversationId)) map.set(item.conversationId, item);
    return map;
  }, [open.data]);
  const lists: Record<Tab, InboxItem[] | undefined> = {
    // Waiting: conversations handed to people and not taken yet, plus open escalations nobody
    // holds (a "notify" escalation leaves the bot answering meanwhile).
    waiting:
      waiting.data && open.data
        ? [
            ...waiting.data.items.map((item) => ({
              conversationId: item.id,
              name: contactName(item.contact),
              seed: item.contactId,
              preview: item.lastMessageText,
              at: item.lastMessageAt,
              mode: item.mode,
              ...(escalationOf.get(item.id)
                ? { escalationId: escalationOf.get(item.id)?.id, overdue: escalationOf.get(item.id)?.overdue }
                : {}),
            })),
            ...open.data.items
              .filter(
                (item) =>
                  item.assigneeId === null &&
                  item.conversation.mode !== 'human' &&
                  item.conversation.mode !== 'waiting' &&
                  escalationOf.get(item.conversationId)?.id === item.id,
              )
              .map((item) => ({
                conversationId: item.conversationId,
                name: contactName(item.contact),
                seed: item.contactId,
                preview: item.reason,
                at: item.createdAt,
                mode: item.conversation.mode,
                escalationId: item.id,
                overdue: item.overdue,
              })),
          ]
        : undefined,
    mine: open.data?.items
      .filter((item) => item.assigneeId === myId || item.conversation.holderId === myId)
      .map((item) => ({
        conversationId: item.conversationId,
        name: contactName(item.contact),
        seed: item.contactId,
        preview: item.reason,
        at: item.updatedAt,
        mode: item.conversation.mode,
        escalationId: item.id,
        overdue: item.overdue,
      })),
    active: active.data?.items.map((item) => ({
      conversationId: item.id,
      name: contactName(item.contact),
      seed: item.contactId,
      preview: item.lastMessageText,
      at: item.lastMessageAt,
      mode: item.mode,
    })),
  };
  const current = lists[tab];
  const sources = tab === 'waiting' ? [waiting, open] : tab === 'mine' ? [open] : [active];
  const more = sources.filter((source) => source.hasNextPage);
  const loadingMore = sources.some((source) => source.isFetchingNextPage);
  const failed = tab === 'mine' ? open : tab === 'waiting' ? (waiting.isError ? waiting : open) : active;
  return (
    <>
      <PageHeader
        title={t('nav.inbox')}
        description={t('inbox.description')}
        actions={
          <>
            <LiveDot status={live} />
            <PresenceSwitch />
          </>
        }
      />
      <Card className="grid h-[calc(100dvh-15rem)] min-h-[440px] md:h-[calc(100dvh-12rem)] overflow-hidden md:grid-cols-[320px_1fr]">
        <aside className={cn('flex min-h-0 flex-col border-r', selected && 'hidden md:flex')}>
          <div role="tablist" aria-label={t('nav.inbox')} className="flex gap-1 border-b p-2">
            {(['waiting', 'mine', 'active'] as const).map((key) => (
              <button
                key={key}
                role="tab"
                type="button"
                aria-selected={tab === key}
                onClick={() => setTab(key)}
                className={cn(
                  'flex flex-1 items-center justify-center gap-1.5 rounded-md px-2 py-1.5 text-[13px] font-medium transition-colors',
                  tab === key ? 'bg-primary/10 text-primary' : 'text-muted-foreground hover:bg-muted',
                )}
              >
                {t(`inbox.tab.${key}`)}
                {lists[key] && lists[key].length > 0 && (
                  <span className="rounded-full bg-muted px-1.5 text-[11px] tabular-nums">
                    {lists[key].length}
                  </span>
                )}
              </button>
            ))}
          </div>
          <div className="min-h-0 flex-1 overflow-y-auto">
            {current === undefined ? (
              failed.isError ? (
                <QueryError error={failed.error} retry={() => failed.refetch()} />
              ) : (
                <ListSkeleton />
              )
            ) : current.length === 0 ? (
              <EmptyState
                icon={Inbox}
                title={t(`inbox.empty.${tab}`)}
                description={t('inbox.emptyDescription')}
              />
            ) : (
              <ul className="divide-y" data-testid="inbox-list">
                {current.map((item) => (
                  <li key={item.conversationId}>
                    <button
                      type="button"
                      onClick={() => setSelected(item.conversationId)}
                      className={cn(
                        'flex w-full items-start gap-3 px-3 py-3 text-left transition-colors hover:bg-muted/50',
                        selected === item.conversationId && 'bg-primary/8',
                      )}
                    >
                      <Avatar name={item.name} seed={item.seed} />
                      <span className="min-w-0 flex-1">
                        <span className="flex items-center justify-between gap-2">
                          <span className="truncate text-sm font-medium">{item.name}</span>
                          <Ago value={item.at} />
                        </span>
                        <span className="mt-0.5 block truncate text-[13px] text-muted-foreground">
                          {item.preview ?? '—'}
                        </span>
                        <span className="mt-1 flex gap-1">
                          <Badge tone={MODE_TONE[item.mode] ?? 'neutral'}>
                            {t(`mode.${modeKey(item.mode)}`)}
                          </Badge>
                          {item.overdue && <Badge tone="danger">{t('escalations.overdue')}</Badge>}
                        </span>
                      </span>
                    </button>
                  </li>
                ))}
                {more.length > 0 && (
                  <li className="p-3 text-center">
                    <Button
                      variant="ghost"
                      size="sm"
                      disabled={loadingMore}
                      onClick={() => {
                        for (const source of more) void source.fetchNextPage();
                      }}
                    >
                      {t('ops.more')}
                    </Button>
                  </li>
                )}
              </ul>
            )}
          </div>
        </aside>
        <section className={cn('min-h-0 min-w-0', !selected && 'hidden md:block')}>
          {selected ? (
            <ConversationPane
              key={selected}
              conversationId={selected}
              escalation={escalationOf.get(selected)}
              onBack={() => setSelected(null)}
            />
          ) : (
            <EmptyState
              className="h-full"
              icon={MessageSquareQuote}
              title={t('inbox.pickTitle')}
              description={t('inbox.pickDescription')}
            />
          )}
        </section>
      </Card>
    </>
  );
}

function Ago({ value }: { value: string | null }) {
  const format = useFormat();
  return (
    <time className="shrink-0 text-[11px] text-muted-foreground" dateTime={value ?? undefined}>
      {format.ago(value)}
    </time>
  );
}

function ListSkeleton() {
  return (
    <div className="grid gap-4 p-4">
      {[0, 1, 2, 3].map((n) => (
        <div key={n} className="flex gap-3">
          <Skeleton className="size-9 rounded-full" />
          <div className="grid flex-1 gap-2">
            <Skeleton className="h-4 w-1/2" />
            <Skeleton className="h-3 w-3/4" />
          </div>
        </div>
      ))}
    </div>
  );
}

function LiveDot({ status }: { status: RealtimeStatus }) {
  const t = useT();
  return (
    <span
      className="inline-flex items-center gap-1.5 rounded-full border bg-card px-2.5 py-1 text-xs text-muted-foreground"
      data-testid="live-status"
      data-status={status}
    >
      <Radio
        className={cn(
          'size-3.5',
          status === 'live' ? 'text-success' : status === 'connecting' ? 'text-warning' : 'text-destructive',
        )}
      />
      {t(`inbox.live.${status}`)}
    </span>
  );
}

/** Online/away; while online the tab repeats it every 30 s so the server knows I am here. */
function PresenceSwitch() {
  const t = useT();
  const { ws } = useWorkspace();
  const me = useMe();
  const queryClient = useQueryClient();
  const presence = useQuery({
    queryKey: ['presence', ws],
    queryFn: () => unwrap(api.GET('/api/workspaces/{ws}/presence', { params: { path: { ws } } })),
  });
  const mine = presence.data?.items.find((item) => item.userId === me.data?.user.id);
  const online = mine?.status === 'online';
  useEffect(() => {
    if (!online) return;
    const beat = () => {
      if (document.visibilityState === 'visible')
        void api.PUT('/api/workspaces/{ws}/presence', {
          params: { path: { ws } },
          body: { status: 'online' },
        });
    };
    const timer = setInterval(beat, HEARTBEAT_MS);
    return () => clearInterval(timer);
  }, [online, ws]);
  const set = async (status: 'online' | 'away') => {
    try {
      await unwrap(api.PUT('/api/workspaces/{ws}/presence', { params: { path: { ws } }, body: { status } }));
      await queryClient.invalidateQueries({ queryKey: ['presence', ws] });
    } catch (error) {
      toast.error(t('common.failed'), errorText(error));
    }
  };
  return (
    <div className="inline-flex items-center gap-2 rounded-full border bg-card px-3 py-1 text-sm">
      <Switch
        checked={online}
        disabled={!presence.data}
        onCheckedChange={(checked) => set(checked ? 'online' : 'away')}
        aria-label={t('inbox.presence')}
      />
      <span className={cn('font-medium', online ? 'text-success' : 'text-muted-foreground')}>
        {online ? t('inbox.online') : t('inbox.away')}
      </span>
      {mine && (
        <span className="hidden text-xs text-muted-foreground sm:inline">
          {t('inbox.chats', { n: mine.activeChats, max: mine.maxChats })}
        </span>
      )}
    </div>
  );
}

type Escalation = {
  id: string;
  reason: string;
  status: string;
  overdue: boolean;
  conversation: { holderId: string | null };
};

function ConversationPane({
  conversationId,
  escalation,
  onBack,
}: {
  conversationId: string;
  escalation: Escalation | undefined;
  onBack: () => void;
}) {
  const t = useT();
  const { ws, can } = useWorkspace();
  const me = useMe();
  const queryClient = useQueryClient();
  const [busy, setBusy] = useState<string | null>(null);
  const [notesOpen, setNotesOpen] = useState(false);
  const conversation = useQuery({
    queryKey: ['conversation', ws, conversationId],
    queryFn: () =>
      unwrap(
        api.GET('/api/workspaces/{ws}/conversations/{conversationId}', {
          params: { path: { ws, conversationId } },
        }),
      ),
  });
  const refresh = async () => {
    await Promise.all([
      queryClient.invalidateQueries({ queryKey: ['conversation', ws, conversationId] }),
      queryClient.invalidateQueries({ queryKey: ['inbox', ws] }),
      queryClient.invalidateQueries({ queryKey: messagesKey(ws, conversationId) }),
    ]);
  };
  const act = async (action: 'takeover' | 'release' | 'resolve') => {
    setBusy(action);
    try {
      const path = { params: { path: { ws, conversationId } } };
      if (action === 'takeover')
        await unwrap(api.POST('/api/workspaces/{ws}/conversations/{conversationId}/takeover', path));
      if (action === 'release')
        await unwrap(
          api.POST('/api/workspaces/{ws}/conversations/{conversationId}/release', { ...path, body: {} }),
        );
      if (action === 'resolve')
        await unwrap(
          api.POST('/api/workspaces/{ws}/conversations/{conversationId}/resolve', { ...path, body: {} }),
        );
      toast.success(t(`inbox.done.${action}`));
      await refresh();
    } catch (error) {
      toast.error(t('common.failed'), errorText(error));
    } finally {
      setBusy(null);
    }
  };
  if (conversation.isError)
    return <QueryError error={conversation.error} retry={() => conversation.refetch()} />;
  const data = conversation.data;
  const mode = data?.mode ?? 'bot';
  const holder = escalation?.conversation.holderId;
  const mineNow = mode === 'human' && (!holder || holder === me.data?.user.id);
  const operator = can('operator');
  return (
    <div className="grid h-full min-h-0 grid-rows-[auto_1fr_auto] xl:grid-cols-[1fr_300px]">
      <header className="flex flex-wrap items-center gap-3 border-b px-3 py-2.5 sm:px-4 xl:col-span-2">
        <Button
          variant="ghost"
          size="icon"
          className="size-8 md:hidden"
          onClick={onBack}
          aria-label={t('ops.back')}
        >
          <ArrowLeft />
        </Button>
        {data ? (
          <Avatar name={contactName(data.contact)} seed={data.contactId} />
        ) : (
          <Skeleton className="size-9 rounded-full" />
        )}
        <div className="min-w-0 flex-1">
          <p className="truncate font-medium" data-testid="conversation-title">
            {data ? contactName(data.contact) : '…'}
          </p>
          <p className="flex items-center gap-2 text-xs text-muted-foreground">
            <Badge tone={MODE_TONE[mode] ?? 'neutral'}>{t(`mode.${modeKey(mode)}`)}</Badge>
            {escalation && <span className="truncate">{escalation.reason}</span>}
          </p>
        </div>
        {operator && (
          <div className="flex flex-wrap gap-2">
            {mode !== 'human' && (
              <Button size="sm" loading={busy === 'takeover'} onClick={() => act('takeover')}>
                <Hand /> {t('inbox.takeover')}
              </Button>
            )}
            {mode === 'human' && (
              <>
                <Button
                  variant="outline"
                  size="sm"
                  loading={busy === 'release'}
                  onClick={() => act('release')}
                >
                  <Undo2 /> {t('inbox.release')}
                </Button>
                <Confirm
                  title={t('inbox.resolveTitle')}
                  description={t('inbox.resolveDescription')}
                  confirmLabel={t('inbox.resolve')}
                  destructive={false}
                  onConfirm={() => act('resolve')}
                >
                  <Button variant="outline" size="sm" loading={busy === 'resolve'}>
                    <CheckCircle2 /> {t('inbox.resolve')}
                  </Button>
                </Confirm>
              </>
            )}
            {escalation && (
              <Button
                variant="ghost"
                size="sm"
                className="xl:hidden"
                onClick={() => setNotesOpen((value) => !value)}
              >
                <StickyNote /> {t('escalations.notes')}
              </Button>
            )}
          </div>
        )}
      </header>
      <ConversationThread
        conversationId={conversationId}
        className={cn('min-h-0', notesOpen && 'hidden xl:block')}
      />
      <aside
        className={cn(
          'hidden min-h-0 overflow-y-auto border-l xl:row-span-2 xl:block',
          notesOpen && 'block border-l-0 xl:border-l',
        )}
      >
        {escalation ? (
          <EscalationNotes escalationId={escalation.id} compact />
        ) : (
          <p className="p-5 text-sm text-muted-foreground">{t('inbox.noEscalation')}</p>
        )}
      </aside>
      <div className="border-t bg-card p-3">
        {operator && mineNow ? (
          <Composer conversationId={conversationId} onSent={refresh} />
        ) : (
          <p className="py-1.5 text-center text-sm text-muted-foreground">
            {operator ? t('inbox.takeOverToReply') : t('inbox.viewerNote')}
          </p>
        )}
      </div>
    </div>
  );
}

function Composer({ conversationId, onSent }: { conversationId: string; onSent: () => Promise<void> }) {
  const t = useT();
  const { ws } = useWorkspace();
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const focus = () => document.getElementById(`composer-${conversationId}`)?.focus();
  const canned = useQuery({
    queryKey: ['canned', ws],
    queryFn: () => unwrap(api.GET('/api/workspaces/{ws}/canned-responses', { params: { path: { ws } } })),
    staleTime: 60_000,
  });
  const slash = text.startsWith('/') && !text.includes(' ') ? text.slice(1).toLowerCase() : null;
  const suggestions =
    slash === null
      ? []
      : (canned.data?.items ?? [])
          .filter((item) => item.shortcut.toLowerCase().startsWith(slash))
          .slice(0, 6);
  const send = async () => {
    const body = text.trim();
    if (!body || sending) return;
    setSending(true);
    setError(null);
    try {
      await unwrap(
        api.POST('/api/workspaces/{ws}/conversations/{conversationId}/messages', {
          params: { path: { ws, conversationId } },
          body: { text: body, clientMessageId: crypto.randomUUID() },
        }),
      );
      setText('');
      await onSent();
    } catch (failure) {
      setError(errorText(failure) ?? t('common.failed'));
    } finally {
      setSending(false);
      focus();
    }
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      const first = suggestions[0];
      if (first) setText(first.text);
      else void send();
    }
  };
  return (
    <div className="relative mx-auto grid max-w-3xl gap-2">
      {suggestions.length > 0 && (
        <ul className="absolute bottom-full left-0 mb-2 w-full max-w-md overflow-hidden rounded-lg border bg-popover shadow-lg">
          {suggestions.map((item) => (
            <li key={item.id}>
              <button
                type="button"
                className="flex w-full gap-2 px-3 py-2 text-left text-sm hover:bg-muted"
                onClick={() => {
                  setText(item.text);
                  focus();
                }}
              >
                <code className="text-primary">/{item.shortcut}</code>
                <span className="truncate text-muted-foreground">{item.text}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {error && (
        <p role="alert" className="text-[13px] text-destructive">
          {error}
        </p>
      )}
      <div className="flex items-end gap-2">
        <Dropdown>
          <DropdownTrigger asChild>
            <Button variant="outline" size="icon" aria-label={t('inbox.canned')}>
              <MessageSquareQuote />
            </Button>
          </DropdownTrigger>
          <DropdownContent align="start" className="max-h-72 w-80 overflow-y-auto">
            <DropdownLabel>{t('inbox.canned')}</DropdownLabel>
            {canned.data?.items.length ? (
              canned.data.items.map((item) => (
                <DropdownItem key={item.id} onSelect={() => setText(item.text)} className="grid gap-0.5">
                  <code className="text-xs text-primary">/{item.shortcut}</code>
                  <span className="line-clamp-2 text-[13px]">{item.text}</span>
                </DropdownItem>
              ))
            ) : (
              <p className="px-2 py-2 text-sm text-muted-foreground">{t('inbox.noCanned')}</p>
            )}
          </DropdownContent>
        </Dropdown>
        <textarea
          id={`composer-${conversationId}`}
          rows={1}
          value={text}
          onChange={(event) => setText(event.target.value)}
          onKeyDown={onKeyDown}
          placeholder={t('inbox.composerPlaceholder')}
          aria-label={t('inbox.reply')}
          className="max-h-40 min-h-9 w-full flex-1 resize-none rounded-md border border-input bg-card px-3 py-2 text-sm leading-relaxed shadow-xs placeholder:text-muted-foreground/70 focus-visible:border-ring focus-visible:ring-3 focus-visible:ring-ring/20 focus-visible:outline-none"
          data-testid="composer"
        />
        <Button onClick={send} loading={sending} disabled={!text.trim()} aria-label={t('inbox.send')}>
          <Send /> <span className="hidden sm:inline">{t('inbox.send')}</span>
        </Button>
      </div>
    </div>
  );
}
