import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { AlertTriangle, MessageSquareQuote, Search } from 'lucide-react';
import { useState } from 'react';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import { Avatar, BotChannelFilter, contactName, errorText } from '@/components/ops';
import { PageHeader, QueryError } from '@/components/page';
import { Badge, type BadgeTone } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { Confirm, DialogContent, DialogRoot } from '@/components/ui/dialog';
import { EmptyState } from '@/components/ui/empty-state';
import { Input, Label, Select } from '@/components/ui/input';
import { Pagination, useCursorPages } from '@/components/ui/pagination';
import { TableSkeleton } from '@/components/ui/skeleton';
import { Table, TBody, TD, TH, THead, TR } from '@/components/ui/table';
import { toast } from '@/components/ui/toast';
import { useFormat, useT } from '@/i18n';
import { useRealtime } from '@/lib/realtime';
import { useWorkspace } from '@/lib/workspace';
import { EscalationNotes } from './escalation-notes';

export const STATUSES = ['pending', 'contacted', 'in_progress', 'resolved', 'cancelled'] as const;
type Status = (typeof STATUSES)[number];
const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
type Priority = (typeof PRIORITIES)[number];
export const STATUS_TONE: Record<Status, BadgeTone> = {
  pending: 'warning',
  contacted: 'primary',
  in_progress: 'primary',
  resolved: 'success',
  cancelled: 'neutral',
};
const PRIORITY_TONE: Record<Priority, BadgeTone> = {
  low: 'neutral',
  normal: 'neutral',
  high: 'warning',
  urgent: 'danger',
};

interface Filters {
  status: string;
  assignee: string;
  age: string;
  bot: string;
  channel: string;
  q: string;
}
const INITIAL: Filters = {
  status: 'pending,contacted,in_progress',
  assignee: '',
  age: '',
  bot: '',
  channel: '',
  q: '',
};

/** Every escalation, filterable; several at once change status together; a row opens its detail. */
export default function EscalationsPage() {
  const t = useT();
  const format = useFormat();
  const { ws, can } = useWorkspace();
  const queryClient = useQueryClient();
  const pages = useCursorPages();
  const [filters, setFilters] = useState<Filters>(INITIAL);
  const [text, setText] = useState('');
  const [checked, setChecked] = useState<Set<string>>(new Set());
  const [bulkStatus, setBulkStatus] = useState<Status>('resolved');
  const [open, setOpen] = useState<string | null>(null);
  useRealtime(ws, (type) => {
    if (type.startsWith('escalation.') || type === 'reset')
      void queryClient.invalidateQueries({ queryKey: ['escalations', ws] });
  });
  const list = useQuery({
    queryKey: ['escalations', ws, filters, pages.cursor],
    queryFn: () =>
      unwrap(
        api.GET('/api/workspaces/{ws}/escalations', {
          params: {
            path: { ws },
            query: {
              limit: 25,
              cursor: pages.cursor,
              status: filters.status || undefined,
              assignee: filters.assignee || undefined,
              olderThanMinutes: filters.age ? Number(filters.age) : undefined,
              botId: filters.bot || undefined,
              channelId: filters.channel || undefined,
              q: filters.q || undefined,
            },
          },
        }),
      ),
  });
  const apply = (next: Partial<Filters>) => {
    setFilters((previous) => ({ ...previous, ...next }));
    setChecked(new Set());
    pages.reset();
  };
  const items = list.data?.items ?? [];
  const allChecked = items.length > 0 && items.every((item) => checked.has(item.id));
  const toggle = (id: string) =>
    setChecked((previous) => {
      const next = new Set(previous);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const bulk = async () => {
    const ids = [...checked];
    const results = await Promise.allSettled(
      ids.map((escalationId) =>
        unwrap(
          api.PATCH('/api/workspaces/{ws}/escalations/{escalationId}', {
            params: { path: { ws, escalationId } },
            body: { status: bulkStatus },
          }),
        ),
      ),
    );
    const failed = results.filter((result) => result.status === 'rejected');
    if (failed.length)
      toast.error(
        t('escalations.bulkFailed', { n: failed.length }),
        errorText((failed[0] as PromiseRejectedResult).reason),
      );
    else toast.success(t('escalations.bulkDone', { n: ids.length }));
    setChecked(new Set());
    await queryClient.invalidateQueries({ queryKey: ['escalations', ws] });
  };
  const filtered = JSON.stringify(filters) !== JSON.stringify(INITIAL);
  return (
    <>
      <PageHeader title={t('nav.escalations')} description={t('escalations.description')} />
      <Card className="mb-4 p-4">
        <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4 xl:grid-cols-[1.4fr_1fr_1fr_1fr_auto]">
          <form
            className="grid gap-1.5"
            onSubmit={(event) => {
              event.preventDefault();
              apply({ q: text.trim() });
            }}
          >
            <Label htmlFor="esc-q">{t('ops.search')}</Label>
            <div className="relative">
              <Search className="pointer-events-none absolute top-2.5 left-2.5 size-4 text-muted-foreground" />
              <Input
                id="esc-q"
                className="pl-8"
                placeholder={t('escalations.searchPlaceholder')}
                value={text}
                onChange={(event) => setText(event.target.value)}
              />
            </div>
          </form>
          <div className="grid gap-1.5">
            <Label htmlFor="esc-status">{t('escalations.status')}</Label>
            <Select
              id="esc-status"
              value={filters.status}
              onChange={(event) => apply({ status: event.target.value })}
            >
              <option value="pending,contacted,in_progress">{t('escalations.open')}</option>
              <option value="">{t('escalations.any')}</option>
              {STATUSES.map((status) => (
                <option key={status} value={status}>
                  {t(`escalations.status.${status}`)}
                </option>
              ))}
            </Select>
          </div>
          <div className="grid gap-1.5">
            <Label htmlFor="esc-assignee">{t('escalations.assignee')}</Label>
            <Select
              id="esc-assignee"
              value={filters.assignee}
              onChange={(event) => apply({ assignee: event.target.value })}
            >
              <option value="">{t('escalations.anyone')}</option>
              <option value="me">{t('escalations.me')}</option>
              <option value="none">{t('escalations.unassigned')}</option>
            </Select>
          </div>
          <div className="grid gap-1.5">
            <Label htmlFor="esc-age">{t('escalations.age')}</Label>
            <Select id="esc-age" value={filters.age} onChange={(event) => apply({ age: event.target.value })}>
              <option value="">{t('escalations.anyAge')}</option>
              {['15', '60', '240', '1440'].map((minutes) => (
                <option key={minutes} value={minutes}>
                  {t(`escalations.olderThan.${minutes}` as 'escalations.olderThan.15')}
                </option>
              ))}
            </Select>
          </div>
          <div className="grid gap-1.5">
            <span className="text-sm font-medium leading-none">{t('ops.channel')}</span>
            <BotChannelFilter
              bot={filters.bot}
              channel={filters.channel}
              onChange={(next) => apply(next)}
              className="[&_select]:w-full! [&_select]:min-w-0"
            />
          </div>
        </div>
      </Card>
      {checked.size > 0 && can('operator') && (
        <div
          className="sticky top-2 z-10 mb-3 flex flex-wrap items-center gap-3 rounded-lg border bg-popover px-4 py-2.5 shadow-md"
          data-testid="bulk-bar"
        >
          <span className="text-sm font-medium">{t('escalations.selected', { n: checked.size })}</span>
          <Select
            aria-label={t('escalations.setStatus')}
            className="h-8! w-44! text-[13px]"
            value={bulkStatus}
            onChange={(event) => setBulkStatus(event.target.value as Status)}
          >
            {STATUSES.map((status) => (
              <option key={status} value={status}>
                {t(`escalations.status.${status}`)}
              </option>
            ))}
          </Select>
          <Confirm
            title={t('escalations.bulkTitle', { n: checked.size })}
            description={t('escalations.bulkDescription', { status: t(`escalations.status.${bulkStatus}`) })}
            confirmLabel={t('escalations.apply')}
            destructive={bulkStatus === 'cancelled'}
            onConfirm={bulk}
          >
            <Button size="sm">{t('escalations.apply')}</Button>
          </Confirm>
          <Button size="sm" variant="ghost" onClick={() => setChecked(new Set())}>
            {t('common.cancel')}
          </Button>
        </div>
      )}
      <Card>
        {list.isPending ? (
          <TableSkeleton rows={8} columns={5} />
        ) : list.isError ? (
          <QueryError error={list.error} retry={() => list.refetch()} />
        ) : items.length === 0 ? (
          <EmptyState
            icon={AlertTriangle}
            title={filtered ? t('escalations.noMatches') : t('escalations.emptyTitle')}
            description={filtered ? t('escalations.noMatchesDescription') : t('escalations.emptyDescription')}
            action={
              filtered && (
                <Button
                  variant="outline"
                  onClick={() => {
                    setText('');
                    apply(INITIAL);
                  }}
                >
                  {t('ops.clearFilters')}
                </Button>
              )
            }
          />
        ) : (
          <>
            <Table>
              <THead>
                <tr>
                  <TH className="w-8">
                    <input
                      type="checkbox"
                      className="size-4 accent-[var(--primary)]"
                      aria-label={t('escalations.selectAll')}
                      checked={allChecked}
                      onChange={() =>
                        setChecked(allChecked ? new Set() : new Set(items.map((item) => item.id)))
                      }
                    />
                  </TH>
                  <TH>{t('escalations.customer')}</TH>
                  <TH>{t('escalations.status')}</TH>
                  <TH className="hidden md:table-cell">{t('escalations.priority')}</TH>
                  <TH className="hidden lg:table-cell">{t('ops.channel')}</TH>
                  <TH className="hidden sm:table-cell">{t('escalations.opened')}</TH>
                </tr>
              </THead>
              <TBody>
                {items.map((item) => (
                  <TR key={item.id} className="cursor-pointer" onClick={() => setOpen(item.id)}>
                    <TD onClick={(event) => event.stopPropagation()}>
                      <input
                        type="checkbox"
                        className="size-4 accent-[var(--primary)]"
                        aria-label={t('escalations.select', { name: contactName(item.contact) })}
                        checked={checked.has(item.id)}
                        onChange={() => toggle(item.id)}
                      />
                    </TD>
                    <TD>
                      <div className="flex items-center gap-3">
                        <Avatar name={contactName(item.contact)} seed={item.contactId} className="size-8" />
                        <div className="min-w-0">
                          <p className="truncate font-medium">{contactName(item.contact)}</p>
                          <p className="max-w-72 truncate text-xs text-muted-foreground">{item.reason}</p>
                        </div>
                      </div>
                    </TD>
                    <TD>
                      <div className="flex flex-wrap gap-1">
                        <Badge tone={STATUS_TONE[item.status]}>
                          {t(`escalations.status.${item.status}`)}
                        </Badge>
                        {item.overdue && <Badge tone="danger">{t('escalations.overdue')}</Badge>}
                      </div>
                    </TD>
                    <TD className="hidden md:table-cell">
                      <Badge tone={PRIORITY_TONE[item.priority]}>
                        {t(`escalations.priority.${item.priority}`)}
                      </Badge>
                    </TD>
                    <TD className="hidden text-muted-foreground capitalize lg:table-cell">
                      {item.channelType}
                    </TD>
                    <TD className="hidden text-muted-foreground sm:table-cell">
                      {format.ago(item.createdAt)}
                    </TD>
                  </TR>
                ))}
              </TBody>
            </Table>
            <Pagination pages={pages} nextCursor={list.data.nextCursor} count={items.length} />
          </>
        )}
      </Card>
      <EscalationDialog id={open} onClose={() => setOpen(null)} />
    </>
  );
}

function EscalationDialog({ id, onClose }: { id: string | null; onClose: () => void }) {
  const t = useT();
  const format = useFormat();
  const { ws, can } = useWorkspace();
  const queryClient = useQueryClient();
  const detail = useQuery({
    queryKey: ['escalations', ws, 'detail', id],
    enabled: id !== null,
    queryFn: () =>
      unwrap(
        api.GET('/api/workspaces/{ws}/escalations/{escalationId}', {
          params: { path: { ws, escalationId: id ?? '' } },
        }),
      ),
  });
  const update = async (body: { status?: Status; priority?: Priority }) => {
    if (!id) return;
    try {
      await unwrap(
        api.PATCH('/api/workspaces/{ws}/escalations/{escalationId}', {
          params: { path: { ws, escalationId: id } },
          body,
        }),
      );
      await queryClient.invalidateQueries({ queryKey: ['escalations', ws] });
      toast.success(t('escalations.updated'));
    } catch (error) {
      toast.error(t('common.failed'), errorText(error));
    }
  };
  const data = detail.data;
  return (
    <DialogRoot open={id !== null} onOpenChange={(next) => !next && onClose()}>
      <DialogContent
        title={data ? contactName(data.contact) : t('nav.escalations')}
        description={data?.reason}
        className="sm:max-w-3xl"
      >
        {detail.isError ? (
          <QueryError error={detail.error} retry={() => detail.refetch()} />
        ) : !data ? (
          <TableSkeleton rows={4} columns={2} />
        ) : (
          <div className="grid gap-5 md:grid-cols-[minmax(0,1fr)_280px]">
            <div className="grid content-start gap-4">
              <dl className="grid grid-cols-2 gap-x-4 gap-y-3 text-sm">
                <div className="grid gap-1">
                  <dt className="text-xs text-muted-foreground">{t('escalations.status')}</dt>
                  <dd>
                    {can('operator') ? (
                      <Select
                        className="h-8 text-[13px]"
                        value={data.status}
                        onChange={(event) => update({ status: event.target.value as Status })}
                        aria-label={t('escalations.status')}
                      >
                        {STATUSES.map((status) => (
                          <option key={status} value={status}>
                            {t(`escalations.status.${status}`)}
                          </option>
                        ))}
                      </Select>
                    ) : (
                      <Badge tone={STATUS_TONE[data.status]}>{t(`escalations.status.${data.status}`)}</Badge>
                    )}
                  </dd>
                </div>
                <div className="grid gap-1">
                  <dt className="text-xs text-muted-foreground">{t('escalations.priority')}</dt>
                  <dd>
                    {can('operator') ? (
                      <Select
                        className="h-8 text-[13px]"
                        value={data.priority}
                        onChange={(event) => update({ priority: event.target.value as Priority })}
                        aria-label={t('escalations.priority')}
                      >
                        {PRIORITIES.map((priority) => (
                          <option key={priority} value={priority}>
                            {t(`escalations.priority.${priority}`)}
                          </option>
                        ))}
                      </Select>
                    ) : (
                      <Badge tone={PRIORITY_TONE[data.priority]}>
                        {t(`escalations.priority.${data.priority}`)}
                      </Badge>
                    )}
                  </dd>
                </div>
                <Fact label={t('escalations.opened')} value={format.dateTime(data.createdAt)} />
                <Fact
                  label={t('escalations.sla')}
                  value={
                    <span className={data.overdue ? 'text-destructive' : undefined}>
                      {format.dateTime(data.slaDueAt)}
                    </span>
                  }
                />
                <Fact label={t('escalations.source')} value={t(`escalations.source.${data.source}`)} />
                <Fact label={t('escalations.firstResponse')} value={format.dateTime(data.firstResponseAt)} />
              </dl>
              <div>
                <h3 className="mb-2 text-sm font-semibold">{t('escalations.snapshot')}</h3>
                {data.snapshot.length === 0 ? (
                  <p className="text-sm text-muted-foreground">{t('escalations.noSnapshot')}</p>
                ) : (
                  <ol className="grid max-h-80 gap-1.5 overflow-y-auto rounded-lg bg-muted/40 p-3">
                    {data.snapshot.map((line, index) => (
                      // biome-ignore lint/suspicious/noArrayIndexKey: the snapshot is a fixed list
                      <li key={index} className={line.direction === 'in' ? 'mr-10' : 'ml-10 text-right'}>
                        <span
                          className={`inline-block rounded-xl px-3 py-1.5 text-[13px] ${line.direction === 'in' ? 'bg-card ring-1 ring-border' : 'bg-primary/10'}`}
                        >
                          {line.text ?? `[${line.type}]`}
                        </span>
                        <span className="block px-1 text-[10px] text-muted-foreground">
                          {line.sender} ·{' '}
                          {new Date(line.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}
                        </span>
                      </li>
                    ))}
                  </ol>
                )}
              </div>
              {can('operator') && (
                <Button asChild variant="outline" className="justify-self-start">
                  <Link to="/w/$ws/inbox" params={{ ws }}>
                    <MessageSquareQuote /> {t('escalations.openInbox')}
                  </Link>
                </Button>
              )}
            </div>
            <div className="min-w-0 rounded-lg border p-4">
              <EscalationNotes escalationId={data.id} />
            </div>
          </div>
        )}
      </DialogContent>
    </DialogRoot>
  );
}

function Fact({ label, value }: { label: string; value: React.ReactNode }) {
  return (
    <div className="grid gap-1">
      <dt className="text-xs text-muted-foreground">{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}
