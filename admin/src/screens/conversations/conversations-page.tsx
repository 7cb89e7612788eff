import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Ban, Contact, MessagesSquare, Search, Send, ShieldCheck } from 'lucide-react';
import { useState } from 'react';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import { ConversationThread, messagesKey } from '@/components/conversation-thread';
import { Avatar, BotChannelFilter, contactName, errorText, MODE_TONE, modeKey } from '@/components/ops';
import { PageHeader, QueryError } from '@/components/page';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { Confirm, DialogContent, DialogRoot } from '@/components/ui/dialog';
import { EmptyState } from '@/components/ui/empty-state';
import { FormError, Input, Select, Textarea } from '@/components/ui/input';
import { Pagination, useCursorPages } from '@/components/ui/pagination';
import { TableSkeleton } from '@/components/ui/skeleton';
import { Table, TBody, TD, TH, THead, TR } from '@/components/ui/table';
import { Tabs, TabsContent, TabsList, TabsTrigger } from '@/components/ui/tabs';
import { toast } from '@/components/ui/toast';
import { useFormat, useT } from '@/i18n';
import { useWorkspace } from '@/lib/workspace';

/** Every conversation and every contact of the workspace: search, filter, open, write, block. */
export default function ConversationsPage() {
  const t = useT();
  const [contact, setContact] = useState<string | null>(null);
  return (
    <>
      <PageHeader title={t('nav.conversations')} description={t('conversations.description')} />
      <Tabs defaultValue="conversations">
        <TabsList>
          <TabsTrigger value="conversations">
            <MessagesSquare /> {t('conversations.tab')}
          </TabsTrigger>
          <TabsTrigger value="contacts">
            <Contact /> {t('contacts.tab')}
          </TabsTrigger>
        </TabsList>
        <TabsContent value="conversations">
          <ConversationList onContact={setContact} />
        </TabsContent>
        <TabsContent value="contacts">
          <ContactList onOpen={setContact} />
        </TabsContent>
      </Tabs>
      <ContactDialog id={contact} onClose={() => setContact(null)} />
    </>
  );
}

function SearchBox({
  value,
  onChange,
  onSubmit,
  placeholder,
}: {
  value: string;
  onChange: (value: string) => void;
  onSubmit: () => void;
  placeholder: string;
}) {
  const t = useT();
  return (
    <form
      className="relative min-w-56 flex-1"
      onSubmit={(event) => {
        event.preventDefault();
        onSubmit();
      }}
    >
      <Search className="pointer-events-none absolute top-2.5 left-2.5 size-4 text-muted-foreground" />
      <Input
        aria-label={t('ops.search')}
        className="pl-8"
        placeholder={placeholder}
        value={value}
        onChange={(event) => onChange(event.target.value)}
      />
    </form>
  );
}

function ConversationList({ onContact }: { onContact: (id: string) => void }) {
  const t = useT();
  const format = useFormat();
  const { ws } = useWorkspace();
  const pages = useCursorPages();
  const [text, setText] = useState('');
  const [filters, setFilters] = useState({ q: '', mode: '', bot: '', channel: '' });
  const [open, setOpen] = useState<string | null>(null);
  const list = useQuery({
    queryKey: ['conversations', ws, filters, pages.cursor],
    queryFn: () =>
      unwrap(
        api.GET('/api/workspaces/{ws}/conversations', {
          params: {
            path: { ws },
            query: {
              limit: 25,
              cursor: pages.cursor,
              q: filters.q || undefined,
              mode: (filters.mode || undefined) as 'bot' | undefined,
              botId: filters.bot || undefined,
              channelId: filters.channel || undefined,
            },
          },
        }),
      ),
  });
  const apply = (next: Partial<typeof filters>) => {
    setFilters((previous) => ({ ...previous, ...next }));
    pages.reset();
  };
  const filtered = Boolean(filters.q || filters.mode || filters.bot);
  return (
    <>
      <div className="mb-4 flex flex-wrap gap-2">
        <SearchBox
          value={text}
          onChange={setText}
          onSubmit={() => apply({ q: text.trim() })}
          placeholder={t('conversations.searchPlaceholder')}
        />
        <Select
          aria-label={t('conversations.mode')}
          className="w-40!"
          value={filters.mode}
          onChange={(event) => apply({ mode: event.target.value })}
        >
          <option value="">{t('conversations.anyMode')}</option>
          {(['bot', 'waiting', 'human', 'closed'] as const).map((mode) => (
            <option key={mode} value={mode}>
              {t(`mode.${mode}`)}
            </option>
          ))}
        </Select>
        <BotChannelFilter bot={filters.bot} channel={filters.channel} onChange={apply} />
      </div>
      <Card>
        {list.isPending ? (
          <TableSkeleton rows={8} />
        ) : list.isError ? (
          <QueryError error={list.error} retry={() => list.refetch()} />
        ) : list.data.items.length === 0 ? (
          <EmptyState
            icon={MessagesSquare}
            title={filtered ? t('ops.noMatches') : t('conversations.emptyTitle')}
            description={filtered ? t('ops.noMatchesDescription') : t('conversations.emptyDescription')}
          />
        ) : (
          <>
            <Table>
              <THead>
                <tr>
                  <TH>{t('conversations.contact')}</TH>
                  <TH className="hidden md:table-cell">{t('conversations.lastMessage')}</TH>
                  <TH>{t('conversations.mode')}</TH>
                  <TH className="hidden sm:table-cell">{t('conversations.messages')}</TH>
                  <TH className="hidden lg:table-cell">{t('conversations.lastActivity')}</TH>
                </tr>
              </THead>
              <TBody>
                {list.data.items.map((item) => (
                  <TR key={item.id} className="cursor-pointer" onClick={() => setOpen(item.id)}>
                    <TD>
                      <div className="flex items-center gap-3">
                        <Avatar name={contactName(item.contact)} seed={item.contactId} className="size-8" />
                        <div className="min-w-0">
                          <button
                            type="button"
                            className="truncate font-medium hover:underline"
                            onClick={(event) => {
                              event.stopPropagation();
                              onContact(item.contactId);
                            }}
                          >
                            {contactName(item.contact)}
                          </button>
                          {item.contact.status === 'blocked' && (
                            <Badge tone="danger" className="ml-2">
                              {t('contacts.blocked')}
                            </Badge>
                          )}
                        </div>
                      </div>
                    </TD>
                    <TD className="hidden max-w-80 truncate text-muted-foreground md:table-cell">
                      {item.lastMessageText ?? '—'}
                    </TD>
                    <TD>
                      <Badge tone={MODE_TONE[item.mode] ?? 'neutral'}>
                        {t(`mode.${modeKey(item.mode)}`)}
                      </Badge>
                    </TD>
                    <TD className="hidden tabular-nums sm:table-cell">{item.messageCount}</TD>
                    <TD className="hidden text-muted-foreground lg:table-cell">
                      {format.ago(item.lastMessageAt)}
                    </TD>
                  </TR>
                ))}
              </TBody>
            </Table>
            <Pagination pages={pages} nextCursor={list.data.nextCursor} count={list.data.items.length} />
          </>
        )}
      </Card>
      <ConversationDialog id={open} onClose={() => setOpen(null)} />
    </>
  );
}

function ConversationDialog({ id, onClose }: { id: string | null; onClose: () => void }) {
  const t = useT();
  const { ws, can } = useWorkspace();
  const queryClient = useQueryClient();
  const conversation = useQuery({
    queryKey: ['conversation', ws, id],
    enabled: id !== null,
    queryFn: () =>
      unwrap(
        api.GET('/api/workspaces/{ws}/conversations/{conversationId}', {
          params: { path: { ws, conversationId: id ?? '' } },
        }),
      ),
  });
  const data = conversation.data;
  return (
    <DialogRoot open={id !== null} onOpenChange={(next) => !next && onClose()}>
      <DialogContent
        title={data ? contactName(data.contact) : t('conversations.tab')}
        className="sm:max-w-2xl gap-3"
      >
        {id && (
          <>
            <ConversationThread conversationId={id} className="h-[55vh] rounded-lg border" />
            {can('operator') && data && (
              <SendForm
                onSend={async (text) => {
                  await unwrap(
                    api.POST('/api/workspaces/{ws}/conversations/{conversationId}/messages', {
                      params: { path: { ws, conversationId: id } },
                      body: { text, clientMessageId: crypto.randomUUID() },
                    }),
                  );
                  await queryClient.invalidateQueries({ queryKey: messagesKey(ws, id) });
                }}
              />
            )}
          </>
        )}
      </DialogContent>
    </DialogRoot>
  );
}

function SendForm({ onSend, disabled }: { onSend: (text: string) => Promise<void>; disabled?: boolean }) {
  const t = useT();
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      className="grid gap-2"
      onSubmit={async (event) => {
        event.preventDefault();
        const body = text.trim();
        if (!body) return;
        setBusy(true);
        setError(null);
        try {
          await onSend(body);
          setText('');
          toast.success(t('conversations.sent'));
        } catch (failure) {
          setError(errorText(failure) ?? t('common.failed'));
        } finally {
          setBusy(false);
        }
      }}
    >
      <div className="flex items-end gap-2">
        <Textarea
          rows={2}
          className="min-h-10"
          aria-label={t('inbox.reply')}
          placeholder={t('conversations.sendPlaceholder')}
          value={text}
          disabled={disabled}
          onChange={(event) => setText(event.target.value)}
        />
        <Button type="submit" loading={busy} disabled={disabled || !text.trim()}>
          <Send /> {t('inbox.send')}
        </Button>
      </div>
      <FormError message={error} />
    </form>
  );
}

function ContactList({ onOpen }: { onOpen: (id: string) => void }) {
  const t = useT();
  const format = useFormat();
  const { ws } = useWorkspace();
  const pages = useCursorPages();
  const [text, setText] = useState('');
  const [filters, setFilters] = useState({ q: '', status: '', bot: '', channel: '' });
  const list = useQuery({
    queryKey: ['contacts', ws, filters, pages.cursor],
    queryFn: () =>
      unwrap(
        api.GET('/api/workspaces/{ws}/contacts', {
          params: {
            path: { ws },
            query: {
              limit: 25,
              cursor: pages.cursor,
              q: filters.q || undefined,
              status: (filters.status || undefined) as 'active' | undefined,
              botId: filters.bot || undefined,
              channelId: filters.channel || undefined,
            },
          },
        }),
      ),
  });
  const apply = (next: Partial<typeof filters>) => {
    setFilters((previous) => ({ ...previous, ...next }));
    pages.reset();
  };
  const filtered = Boolean(filters.q || filters.status || filters.bot);
  return (
    <>
      <div className="mb-4 flex flex-wrap gap-2">
        <SearchBox
          value={text}
          onChange={setText}
          onSubmit={() => apply({ q: text.trim() })}
          placeholder={t('contacts.searchPlaceholder')}
        />
        <Select
          aria-label={t('contacts.status')}
          className="w-40!"
          value={filters.status}
          onChange={(event) => apply({ status: event.target.value })}
        >
          <option value="">{t('contacts.anyStatus')}</option>
          <option value="active">{t('contacts.active')}</option>
          <option value="blocked">{t('contacts.blocked')}</option>
        </Select>
        <BotChannelFilter bot={filters.bot} channel={filters.channel} onChange={apply} />
      </div>
      <Card>
        {list.isPending ? (
          <TableSkeleton rows={8} />
        ) : list.isError ? (
          <QueryError error={list.error} retry={() => list.refetch()} />
        ) : list.data.items.length === 0 ? (
          <EmptyState
            icon={Contact}
            title={filtered ? t('ops.noMatches') : t('contacts.emptyTitle')}
            description={filtered ? t('ops.noMatchesDescription') : t('contacts.emptyDescription')}
          />
        ) : (
          <>
            <Table>
              <THead>
                <tr>
                  <TH>{t('conversations.contact')}</TH>
                  <TH className="hidden sm:table-cell">{t('ops.channel')}</TH>
                  <TH className="hidden md:table-cell">{t('contacts.language')}</TH>
                  <TH className="hidden md:table-cell">{t('conversations.messages')}</TH>
                  <TH className="hidden lg:table-cell">{t('contacts.lastSeen')}</TH>
                  <TH>{t('contacts.status')}</TH>
                </tr>
              </THead>
              <TBody>
                {list.data.items.map((item) => (
                  <TR key={item.id} className="cursor-pointer" onClick={() => onOpen(item.id)}>
                    <TD>
                      <div className="flex items-center gap-3">
                        <Avatar name={contactName(item)} seed={item.id} className="size-8" />
                        <div className="min-w-0">
                          <p className="truncate font-medium">{contactName(item)}</p>
                          {item.username && (
                            <p className="truncate text-xs text-muted-foreground">@{item.username}</p>
                          )}
                        </div>
                      </div>
                    </TD>
                    <TD className="hidden text-muted-foreground capitalize sm:table-cell">
                      {item.channelType}
                    </TD>
                    <TD className="hidden text-muted-foreground uppercase md:table-cell">
                      {item.language ?? item.languageCode ?? '—'}
                    </TD>
                    <TD className="hidden tabular-nums md:table-cell">{item.messageCount}</TD>
                    <TD className="hidden text-muted-foreground lg:table-cell">
                      {format.ago(item.lastSeenAt)}
                    </TD>
                    <TD>
                      <Badge tone={item.status === 'blocked' ? 'danger' : 'success'}>
                        {t(`contacts.${item.status}`)}
                      </Badge>
                    </TD>
                  </TR>
                ))}
              </TBody>
            </Table>
            <Pagination pages={pages} nextCursor={list.data.nextCursor} count={list.data.items.length} />
          </>
        )}
      </Card>
    </>
  );
}

function ContactDialog({ id, onClose }: { id: string | null; onClose: () => void }) {
  const t = useT();
  const format = useFormat();
  const { ws, can } = useWorkspace();
  const queryClient = useQueryClient();
  const contact = useQuery({
    queryKey: ['contact', ws, id],
    enabled: id !== null,
    queryFn: () =>
      unwrap(
        api.GET('/api/workspaces/{ws}/contacts/{contactId}', {
          params: { path: { ws, contactId: id ?? '' } },
        }),
      ),
  });
  const data = contact.data;
  const setBlocked = async (blocked: boolean) => {
    if (!id) return;
    try {
      const path = { params: { path: { ws, contactId: id } } };
      if (blocked) await unwrap(api.POST('/api/workspaces/{ws}/contacts/{contactId}/block', path));
      else await unwrap(api.POST('/api/workspaces/{ws}/contacts/{contactId}/unblock', path));
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: ['contact', ws, id] }),
        queryClient.invalidateQueries({ queryKey: ['contacts', ws] }),
        queryClient.invalidateQueries({ queryKey: ['conversations', ws] }),
      ]);
      toast.success(blocked ? t('contacts.blockedDone') : t('contacts.unblockedDone'));
    } catch (error) {
      toast.error(t('common.failed'), errorText(error));
    }
  };
  return (
    <DialogRoot open={id !== null} onOpenChange={(next) => !next && onClose()}>
      <DialogContent
        title={data ? contactName(data) : t('contacts.profile')}
        description={data?.username ? `@${data.username}` : undefined}
        className="sm:max-w-xl"
      >
        {contact.isError ? (
          <QueryError error={contact.error} retry={() => contact.refetch()} />
        ) : !data ? (
          <TableSkeleton rows={4} columns={2} />
        ) : (
          <div className="grid gap-5">
            <div className="flex items-center gap-4">
              <Avatar name={contactName(data)} seed={data.id} className="size-14 text-base" />
              <div className="flex flex-wrap gap-2">
                <Badge tone={data.status === 'blocked' ? 'danger' : 'success'}>
                  {t(`contacts.${data.status}`)}
                </Badge>
                <Badge className="capitalize">
                  {data.channelType}
                  {data.channelUsername ? ` · @${data.channelUsername}` : ''}
                </Badge>
              </div>
            </div>
            <dl className="grid grid-cols-2 gap-x-6 gap-y-3 text-sm">
              <Fact
                label={t('contacts.externalId')}
                value={<code className="text-[13px]">{data.externalId}</code>}
              />
              <Fact label={t('contacts.language')} value={data.language ?? data.languageCode ?? '—'} />
              <Fact label={t('contacts.referrer')} value={data.referrer ?? '—'} />
              <Fact label={t('conversations.messages')} value={data.messageCount} />
              <Fact label={t('contacts.firstSeen')} value={format.dateTime(data.firstSeenAt)} />
              <Fact label={t('contacts.lastSeen')} value={format.dateTime(data.lastSeenAt)} />
            </dl>
            {can('operator') && (
              <>
                <div className="border-t pt-4">
                  <h3 className="mb-2 text-sm font-semibold">{t('contacts.sendMessage')}</h3>
                  <SendForm
                    disabled={data.status === 'blocked'}
                    onSend={async (text) => {
                      await unwrap(
                        api.POST('/api/workspaces/{ws}/contacts/{contactId}/messages', {
                          params: { path: { ws, contactId: data.id } },
                          body: { text },
                        }),
                      );
                      await queryClient.invalidateQueries({ queryKey: ['messages', ws] });
                    }}
                  />
                </div>
                <div className="flex justify-end border-t pt-4">
                  {data.status === 'blocked' ? (
                    <Confirm
                      title={t('contacts.unblockTitle')}
                      description={t('contacts.unblockDescription')}
                      confirmLabel={t('contacts.unblock')}
                      destructive={false}
                      onConfirm={() => setBlocked(false)}
                    >
                      <Button variant="outline">
                        <ShieldCheck /> {t('contacts.unblock')}
                      </Button>
                    </Confirm>
                  ) : (
                    <Confirm
                      title={t('contacts.blockTitle', { name: contactName(data) })}
                      description={t('contacts.blockDescription')}
                      confirmLabel={t('contacts.block')}
                      onConfirm={() => setBlocked(true)}
                    >
                      <Button variant="outline" className="text-destructive!">
                        <Ban /> {t('contacts.block')}
                      </Button>
                    </Confirm>
                  )}
                </div>
              </>
            )}
          </div>
        )}
      </DialogContent>
    </DialogRoot>
  );
}

function Fact({ label, value }: { label: string; value: React.ReactNode }) {
  return (
    <div className="grid gap-0.5">
      <dt className="text-xs text-muted-foreground">{label}</dt>
      <dd className="truncate">{value}</dd>
    </div>
  );
}
