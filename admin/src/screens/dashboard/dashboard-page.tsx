import { useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  BarChart3,
  Download,
  Image,
  Link2,
  MessageSquareText,
  MessagesSquare,
  Search,
  ShoppingBag,
  Siren,
  Timer,
  Users,
} from 'lucide-react';
import { type ComponentType, lazy, type ReactNode, Suspense, useMemo, useState } from 'react';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import { BotChannelFilter, CopyValue, errorText, formatDuration, saveBlob } from '@/components/ops';
import { PageHeader, QueryError } from '@/components/page';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card, CardHeader } from '@/components/ui/card';
import { Confirm, DialogContent, DialogRoot } from '@/components/ui/dialog';
import { EmptyState } from '@/components/ui/empty-state';
import { Field, FormError, Input, Select } from '@/components/ui/input';
import { Skeleton } from '@/components/ui/skeleton';
import { toast } from '@/components/ui/toast';
import { useFormat, useI18n, useT } from '@/i18n';
import { cn } from '@/lib/cn';
import { useZodForm } from '@/lib/form';
import { useWorkspace } from '@/lib/workspace';
import { shareLinkSchema } from '@/ops-schemas';

const TrendChart = lazy(() => import('./trend-chart'));

const RANGES = [1, 7, 30, 90] as const;
type Range = (typeof RANGES)[number];
const METRICS = [
  'messages_in',
  'messages_out',
  'conversations',
  'escalations_opened',
  'escalations_resolved',
] as const;
type Metric = (typeof METRICS)[number];

/** The period as the API wants it: local days (the workspace's time zone), `to` inclusive. */
function period(days: Range, timeZone: string | undefined) {
  const day = (date: Date) => {
    try {
      return new Intl.DateTimeFormat('en-CA', {
        timeZone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
      }).format(date);
    } catch {
      return new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit' }).format(
        date,
      );
    }
  };
  const now = new Date();
  return { from: day(new Date(now.getTime() - (days - 1) * 86_400_000)), to: day(now) };
}

/** The workspace at a glance: counts, trends by day, what customers search and look at. */
export default function DashboardPage() {
  const t = useT();
  const format = useFormat();
  const { ws, can } = useWorkspace();
  const workspace = useQuery({
    queryKey: ['workspace', ws],
    queryFn: () => unwrap(api.GET('/api/workspaces/{ws}', { params: { path: { ws } } })),
  });
  const [days, setDays] = useState<Range>(7);
  const [scope, setScope] = useState({ bot: '', channel: '' });
  const [sharing, setSharing] = useState(false);
  const timeZone = workspace.data?.timezone;
  const range = useMemo(() => period(days, timeZone), [days, timeZone]);
  const query = {
    from: range.from,
    to: range.to,
    bot: scope.bot || undefined,
    channel: scope.channel || undefined,
  };
  const interval = days === 1 ? 'hour' : 'day';
  const summary = useQuery({
    queryKey: ['analytics', ws, 'summary', query],
    queryFn: () =>
      unwrap(api.GET('/api/workspaces/{ws}/analytics/summary', { params: { path: { ws }, query } })),
  });
  const series = useQueries({
    queries: METRICS.map((metric) => ({
      queryKey: ['analytics', ws, 'timeseries', metric, interval, query],
      queryFn: () =>
        unwrap(
          api.GET('/api/workspaces/{ws}/analytics/timeseries', {
            params: { path: { ws }, query: { ...query, metric, interval } },
          }),
        ),
    })),
  });
  const byMetric = Object.fromEntries(
    METRICS.map((metric, index) => [metric, series[index]?.data]),
  ) as Record<Metric, (typeof series)[number]['data']>;
  const { language } = useI18n();
  const labels = useMemo(() => {
    const short = new Intl.DateTimeFormat(language === 'ru' ? 'ru-RU' : 'en-US', {
      month: 'short',
      day: 'numeric',
      timeZone: 'UTC',
    });
    return (byMetric.messages_in?.points ?? []).map((point) =>
      /^\d{4}-\d{2}-\d{2}$/.test(point.label)
        ? short.format(new Date(`${point.label}T00:00:00Z`))
        : point.label,
    );
  }, [byMetric.messages_in, language]);
  const values = (metric: Metric) => byMetric[metric]?.points.map((point) => point.value) ?? [];
  const seriesReady = series.every((item) => item.data);
  const exportCsv = async () => {
    try {
      const { data, response } = await api.GET('/api/workspaces/{ws}/analytics/export.csv', {
        params: { path: { ws }, query: { ...query, kind: 'timeseries', metric: 'messages_in', interval } },
        parseAs: 'blob',
      });
      if (!response.ok || !data) throw new Error(`HTTP ${response.status}`);
      saveBlob(data as Blob, `switchboard-${days}d.csv`);
    } catch (error) {
      toast.error(t('dashboard.exportFailed'), errorText(error));
    }
  };
  const exportPng = async () => {
    try {
      const { data, response } = await api.GET('/api/workspaces/{ws}/analytics/chart.png', {
        params: {
          path: { ws },
          query: { ...query, metric: 'messages_in', interval, width: 1200, height: 500 },
        },
        parseAs: 'blob',
      });
      if (!response.ok || !data) throw new Error(`HTTP ${response.status}`);
      saveBlob(data as Blob, `switchboard-${days}d.png`);
    } catch (error) {
      toast.error(t('dashboard.exportFailed'), errorText(error));
    }
  };
  const s = summary.data;
  return (
    <>
      <PageHeader
        title={t('nav.dashboard')}
        description={t('dashboard.description')}
        actions={
          <>
            <Button variant="outline" size="sm" onClick={exportCsv}>
              <Download /> CSV
            </Button>
            <Button variant="outline" size="sm" onClick={exportPng}>
              <Image /> PNG
            </Button>
            {can('admin') && (
              <Button size="sm" onClick={() => setSharing(true)}>
                <Link2 /> {t('dashboard.share')}
              </Button>
            )}
          </>
        }
      />
      <div className="mb-6 flex flex-wrap items-center gap-3">
        <fieldset
          aria-label={t('dashboard.range')}
          className="inline-flex rounded-lg border bg-card p-0.5 shadow-xs"
        >
          {RANGES.map((option) => (
            <button
              key={option}
              type="button"
              aria-pressed={days === option}
              onClick={() => setDays(option)}
              className={cn(
                'rounded-md px-3 py-1.5 text-sm font-medium transition-colors',
                days === option
                  ? 'bg-primary text-primary-foreground shadow-sm'
                  : 'text-muted-foreground hover:text-foreground',
              )}
            >
              {option === 1 ? t('dashboard.today') : t('dashboard.days', { n: option })}
            </button>
          ))}
        </fieldset>
        <BotChannelFilter bot={scope.bot} channel={scope.channel} onChange={setScope} />
      </div>
      {summary.isError ? (
        <Card>
          <QueryError error={summary.error} retry={() => summary.refetch()} />
        </Card>
      ) : (
        <div className="grid gap-6">
          <div className="grid grid-cols-2 gap-3 lg:grid-cols-4">
            <Stat
              icon={MessagesSquare}
              label={t('dashboard.conversations')}
              value={s && format.number(s.conversations)}
            />
            <Stat
              icon={Users}
              label={t('dashboard.uniqueUsers')}
              value={s && format.number(s.uniqueUsers)}
              hint={s && t('dashboard.newUsers', { n: format.number(s.newUsers) })}
            />
            <Stat
              icon={MessageSquareText}
              label={t('dashboard.messages')}
              value={s && `${format.number(s.messagesIn)} / ${format.number(s.messagesOut)}`}
              hint={t('dashboard.inOut')}
            />
            <Stat
              icon={Siren}
              label={t('dashboard.escalations')}
              value={s && `${format.number(s.escalations.opened)} / ${format.number(s.escalations.resolved)}`}
              hint={t('dashboard.openedResolved')}
            />
            <Stat
              icon={Timer}
              label={t('dashboard.firstResponse')}
              value={s && formatDuration(s.escalations.medianFirstResponseSeconds, t)}
              hint={t('dashboard.median')}
            />
            <Stat
              icon={Search}
              label={t('dashboard.searches')}
              value={s && format.number(s.searches)}
              hint={s && t('dashboard.zeroResults', { n: format.number(s.zeroResultSearches) })}
            />
            <Stat
              icon={ShoppingBag}
              label={t('dashboard.productViews')}
              value={s && format.number(s.productViews)}
            />
            <Stat
              icon={BarChart3}
              label={t('dashboard.handoffs')}
              value={s && format.number(s.escalations.handoffs)}
            />
          </div>
          <div className="grid gap-6 xl:grid-cols-2">
            <ChartCard
              title={t('dashboard.messagesChart')}
              ready={seriesReady}
              empty={
                values('messages_in').every((v) => v === 0) && values('messages_out').every((v) => v === 0)
              }
            >
              <TrendChart
                labels={labels}
                series={[
                  { name: t('dashboard.in'), color: '#6366f1', values: values('messages_in') },
                  { name: t('dashboard.out'), color: '#14b8a6', values: values('messages_out') },
                ]}
              />
            </ChartCard>
            <ChartCard
              title={t('dashboard.conversationsChart')}
              ready={seriesReady}
              empty={
                values('conversations').every((v) => v === 0) &&
                values('escalations_opened').every((v) => v === 0)
              }
            >
              <TrendChart
                labels={labels}
                series={[
                  {
                    name: t('dashboard.conversations'),
                    color: '#6366f1',
                    values: values('conversations'),
                    kind: 'bar',
                  },
                  {
                    name: t('dashboard.escalationsOpened'),
                    color: '#f59e0b',
                    values: values('escalations_opened'),
                    kind: 'bar',
                  },
                  {
                    name: t('dashboard.escalationsResolved'),
                    color: '#10b981',
                    values: values('escalations_resolved'),
                    kind: 'bar',
                  },
                ]}
              />
            </ChartCard>
          </div>
          <div className="grid gap-6 lg:grid-cols-2">
            <RankCard
              title={t('dashboard.topSearches')}
              icon={Search}
              empty={t('dashboard.noSearches')}
              rows={s?.topQueries.map((row) => ({ key: row.query, label: row.query, count: row.count }))}
            />
            <RankCard
              title={t('dashboard.topProducts')}
              icon={ShoppingBag}
              empty={t('dashboard.noProductViews')}
              rows={s?.topProducts.map((row) => ({
                key: row.productId,
                label: row.title ?? row.productId.slice(0, 8),
                count: row.count,
              }))}
            />
          </div>
        </div>
      )}
      {can('admin') && (
        <ShareDialog
          open={sharing}
          onOpenChange={setSharing}
          days={days}
          bot={scope.bot}
          channel={scope.channel}
        />
      )}
    </>
  );
}

function Stat({
  icon: Icon,
  label,
  value,
  hint,
}: {
  icon: ComponentType<{ className?: string }>;
  label: string;
  value: ReactNode;
  hint?: ReactNode;
}) {
  return (
    <Card className="p-4">
      <div className="flex items-center justify-between gap-2 text-muted-foreground">
        <span className="truncate text-[13px] font-medium">{label}</span>
        <Icon className="size-4 shrink-0" />
      </div>
      {value === undefined ? (
        <Skeleton className="mt-3 h-7 w-20" />
      ) : (
        <p className="mt-2 text-2xl font-semibold tracking-tight tabular-nums" data-testid={`stat-${label}`}>
          {value}
        </p>
      )}
      {hint && <p className="mt-0.5 truncate text-xs text-muted-foreground">{hint}</p>}
    </Card>
  );
}

function ChartCard({
  title,
  ready,
  empty,
  children,
}: {
  title: string;
  ready: boolean;
  empty: boolean;
  children: ReactNode;
}) {
  const t = useT();
  return (
    <Card>
      <CardHeader title={title} />
      <div className="px-4 py-4">
        {!ready ? (
          <Skeleton className="h-[260px] w-full" />
        ) : empty ? (
          <EmptyState
            className="h-[260px] py-0"
            icon={BarChart3}
            title={t('dashboard.noData')}
            description={t('dashboard.noDataDescription')}
          />
        ) : (
          <Suspense fallback={<Skeleton className="h-[260px] w-full" />}>{children}</Suspense>
        )}
      </div>
    </Card>
  );
}

function RankCard({
  title,
  icon,
  empty,
  rows,
}: {
  title: string;
  icon: ComponentType<{ className?: string }>;
  empty: string;
  rows: Array<{ key: string; label: string; count: number }> | undefined;
}) {
  const t = useT();
  const max = Math.max(1, ...(rows ?? []).map((row) => row.count));
  return (
    <Card>
      <CardHeader title={title} />
      {rows === undefined ? (
        <div className="grid gap-3 p-5">
          {[0, 1, 2, 3].map((n) => (
            <Skeleton key={n} className="h-5 w-full" />
          ))}
        </div>
      ) : rows.length === 0 ? (
        <EmptyState icon={icon as never} title={empty} description={t('dashboard.noDataDescription')} />
      ) : (
        <ol className="grid gap-2.5 p-5">
          {rows.slice(0, 10).map((row) => (
            <li
              key={row.key}
              className="relative flex items-center justify-between gap-3 overflow-hidden rounded-md px-3 py-1.5 text-sm"
            >
              <span
                className="absolute inset-y-0 left-0 rounded-md bg-primary/10"
                style={{ width: `${(row.count / max) * 100}%` }}
                aria-hidden="true"
              />
              <span className="relative truncate">{row.label}</span>
              <span className="relative font-medium tabular-nums">{row.count}</span>
            </li>
          ))}
        </ol>
      )}
    </Card>
  );
}

function ShareDialog({
  open,
  onOpenChange,
  days,
  bot,
  channel,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  days: Range;
  bot: string;
  channel: string;
}) {
  const t = useT();
  const format = useFormat();
  const { ws } = useWorkspace();
  const queryClient = useQueryClient();
  const [url, setUrl] = useState<string | null>(null);
  const form = useZodForm(shareLinkSchema, { name: '', expiresInDays: '30' });
  const links = useQuery({
    queryKey: ['share-links', ws],
    enabled: open,
    queryFn: () =>
      unwrap(api.GET('/api/workspaces/{ws}/analytics/share-links', { params: { path: { ws } } })),
  });
  const close = (next: boolean) => {
    onOpenChange(next);
    if (!next) {
      setUrl(null);
      form.setValues({ name: '', expiresInDays: '30' });
    }
  };
  return (
    <DialogRoot open={open} onOpenChange={close}>
      <DialogContent
        title={t('dashboard.shareTitle')}
        description={t('dashboard.shareDescription')}
        className="sm:max-w-xl"
      >
        {url ? (
          <div className="grid gap-4">
            <CopyValue value={url} />
            <p className="text-sm text-muted-foreground">{t('dashboard.shareOnce')}</p>
            <div className="flex justify-end">
              <Button onClick={() => setUrl(null)}>{t('common.done')}</Button>
            </div>
          </div>
        ) : (
          <form
            className="grid gap-4"
            noValidate
            onSubmit={form.handleSubmit(async (data) => {
              const result = await unwrap(
                api.POST('/api/workspaces/{ws}/analytics/share-links', {
                  params: { path: { ws } },
                  body: {
                    name: data.name,
                    expiresInSeconds: data.expiresInDays * 86400,
                    scope: {
                      reports: ['summary', 'timeseries', 'funnel'],
                      ...(bot ? { botId: bot } : {}),
                      ...(channel ? { channelId: channel } : {}),
                      period: { kind: 'last_days', days },
                    },
                  },
                }),
              );
              await queryClient.invalidateQueries({ queryKey: ['share-links', ws] });
              setUrl(new URL(result.url, window.location.origin).href);
            })}
          >
            <Field
              label={t('field.name')}
              error={form.errors.name}
              hint={t('dashboard.shareNameHint', { n: days })}
            >
              {(props) => (
                <Input
                  {...props}
                  autoFocus
                  value={form.values.name}
                  onChange={(event) => form.set('name', event.target.value)}
                />
              )}
            </Field>
            <Field label={t('dashboard.expires')} error={form.errors.expiresInDays}>
              {(props) => (
                <Select
                  {...props}
                  value={form.values.expiresInDays}
                  onChange={(event) => form.set('expiresInDays', event.target.value)}
                >
                  {['7', '30', '90', '365'].map((value) => (
                    <option key={value} value={value}>
                      {t('dashboard.days', { n: value })}
                    </option>
                  ))}
                </Select>
              )}
            </Field>
            <FormError message={form.formError} />
            <div className="flex justify-end gap-2">
              <Button variant="outline" onClick={() => close(false)}>
                {t('common.cancel')}
              </Button>
              <Button type="submit" loading={form.submitting}>
                {t('dashboard.createLink')}
              </Button>
            </div>
          </form>
        )}
        {links.data && links.data.items.length > 0 && (
          <div className="grid gap-2 border-t pt-4">
            <h3 className="text-sm font-medium">{t('dashboard.existingLinks')}</h3>
            <ul className="divide-y rounded-lg border">
              {links.data.items.map((link) => (
                <li key={link.id} className="flex items-center gap-3 px-3 py-2 text-sm">
                  <span className="min-w-0 flex-1 truncate">{link.name}</span>
                  {link.revokedAt ? (
                    <Badge>{t('dashboard.revoked')}</Badge>
                  ) : (
                    <>
                      <span className="hidden text-xs text-muted-foreground sm:inline">
                        {t('dashboard.until', { date: format.date(link.expiresAt) })}
                      </span>
                      <Confirm
                        title={t('dashboard.revokeTitle')}
                        description={t('dashboard.revokeDescription', { name: link.name })}
                        confirmLabel={t('dashboard.revoke')}
                        onConfirm={async () => {
                          try {
                            await unwrap(
                              api.DELETE('/api/workspaces/{ws}/analytics/share-links/{linkId}', {
                                params: { path: { ws, linkId: link.id } },
                              }),
                            );
                            await queryClient.invalidateQueries({ queryKey: ['share-links', ws] });
                          } catch (error) {
                            toast.error(t('common.failed'), errorText(error));
                          }
                        }}
                      >
                        <Button variant="ghost" size="sm">
                          {t('dashboard.revoke')}
                        </Button>
                      </Confirm>
                    </>
                  )}
                </li>
              ))}
            </ul>
          </div>
        )}
      </DialogContent>
    </DialogRoot>
  );
}
