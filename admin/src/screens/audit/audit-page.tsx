import { useQuery } from '@tanstack/react-query';
import { ChevronDown, ScrollText } from 'lucide-react';
import { useState } from 'react';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import { DiffView } from '@/components/diff-view';
import { PageHeader, QueryError } from '@/components/page';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { Input, Label } from '@/components/ui/input';
import { Pagination, useCursorPages } from '@/components/ui/pagination';
import { TableSkeleton } from '@/components/ui/skeleton';
import { useFormat, useT } from '@/i18n';
import { cn } from '@/lib/cn';
import { useWorkspace } from '@/lib/workspace';

interface Filters {
  action: string;
  targetType: string;
  from: string;
  to: string;
}

const EMPTY: Filters = { action: '', targetType: '', from: '', to: '' };

/** Who changed what: every mutation's row, filterable, with the before/after of each field. */
export default function AuditPage() {
  const t = useT();
  const format = useFormat();
  const { ws } = useWorkspace();
  const pages = useCursorPages();
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [open, setOpen] = useState<string | null>(null);
  const entries = useQuery({
    queryKey: ['audit', ws, filters, pages.cursor],
    queryFn: () =>
      unwrap(
        api.GET('/api/workspaces/{ws}/audit', {
          params: {
            path: { ws },
            query: {
              limit: 25,
              cursor: pages.cursor,
              action: filters.action || undefined,
              targetType: filters.targetType || undefined,
              from: filters.from ? new Date(filters.from).toISOString() : undefined,
              to: filters.to ? new Date(`${filters.to}T23:59:59.999`).toISOString() : undefined,
            },
          },
        }),
      ),
  });
  const apply = (next: Filters) => {
    setFilters(next);
    pages.reset();
  };
  const filtered = Object.values(filters).some(Boolean);
  return (
    <>
      <PageHeader title={t('nav.audit')} description={t('audit.description')} />
      <Card className="mb-4 p-4">
        <form
          className="grid items-end gap-3 sm:grid-cols-2 lg:grid-cols-[1fr_1fr_auto_auto_auto]"
          onSubmit={(event) => {
            event.preventDefault();
            apply(draft);
          }}
        >
          <div className="grid gap-1.5">
            <Label htmlFor="audit-action">{t('audit.action')}</Label>
            <Input
              id="audit-action"
              placeholder="bot_config.publish"
              value={draft.action}
              onChange={(event) => setDraft({ ...draft, action: event.target.value })}
            />
          </div>
          <div className="grid gap-1.5">
            <Label htmlFor="audit-target">{t('audit.targetType')}</Label>
            <Input
              id="audit-target"
              placeholder="bot"
              value={draft.targetType}
              onChange={(event) => setDraft({ ...draft, targetType: event.target.value })}
            />
          </div>
          <div className="grid gap-1.5">
            <Label htmlFor="audit-from">{t('audit.from')}</Label>
            <Input
              id="audit-from"
              type="date"
              value={draft.from}
              onChange={(event) => setDraft({ ...draft, from: event.target.value })}
            />
          </div>
          <div className="grid gap-1.5">
            <Label htmlFor="audit-to">{t('audit.to')}</Label>
            <Input
              id="audit-to"
              type="date"
              value={draft.to}
              onChange={(event) => setDraft({ ...draft, to: event.target.value })}
            />
          </div>
          <div className="flex gap-2">
            <Button type="submit">{t('audit.apply')}</Button>
            {filtered && (
              <Button
                variant="ghost"
                onClick={() => {
                  setDraft(EMPTY);
                  apply(EMPTY);
                }}
              >
                {t('audit.clear')}
              </Button>
            )}
          </div>
        </form>
      </Card>
      <Card>
        {entries.isPending ? (
          <TableSkeleton rows={8} />
        ) : entries.isError ? (
          <QueryError error={entries.error} retry={() => entries.refetch()} />
        ) : entries.data.items.length === 0 ? (
          <EmptyState
            icon={ScrollText}
            title={filtered ? t('audit.noMatches') : t('audit.emptyTitle')}
            description={filtered ? t('audit.noMatchesDescription') : t('audit.emptyDescription')}
          />
        ) : (
          <>
            <ul className="divide-y">
              {entries.data.items.map((entry) => {
                const expanded = open === entry.id;
                const changes = Object.entries(entry.diff).map(([path, change]) => ({
                  path,
                  before: change.before,
                  after: change.after,
                }));
                return (
                  <li key={entry.id}>
                    <button
                      type="button"
                      aria-expanded={expanded}
                      onClick={() => setOpen(expanded ? null : entry.id)}
                      className="flex w-full flex-wrap items-center gap-x-4 gap-y-1 px-5 py-3 text-left text-sm transition-colors hover:bg-muted/40"
                    >
                      <code className="rounded bg-muted px-1.5 py-0.5 text-[13px] font-medium">
                        {entry.action}
                      </code>
                      <span className="min-w-0 flex-1 truncate text-muted-foreground">
                        {entry.targetType}
                        {entry.targetId && (
                          <span className="font-mono text-xs"> · …{entry.targetId.slice(-8)}</span>
                        )}
                      </span>
                      <span className="flex items-center gap-2">
                        <Badge tone={entry.actorType === 'user' ? 'neutral' : 'primary'}>
                          {entry.actorLabel ?? entry.actorType}
                        </Badge>
                        <time
                          className="w-36 text-right text-xs text-muted-foreground"
                          dateTime={entry.createdAt}
                        >
                          {format.dateTime(entry.createdAt)}
                        </time>
                        <ChevronDown
                          className={cn(
                            'size-4 text-muted-foreground transition-transform',
                            expanded && 'rotate-180',
                          )}
                        />
                      </span>
                    </button>
                    {expanded && (
                      <div className="grid gap-3 border-t bg-muted/20 px-5 py-4">
                        <DiffView changes={changes} />
                        <p className="text-xs text-muted-foreground">
                          {entry.ip && <>IP {entry.ip} · </>}
                          {entry.requestId && (
                            <>
                              {t('audit.request')} <code>{entry.requestId}</code>
                            </>
                          )}
                        </p>
                      </div>
                    )}
                  </li>
                );
              })}
            </ul>
            <Pagination
              pages={pages}
              nextCursor={entries.data.nextCursor}
              count={entries.data.items.length}
            />
          </>
        )}
      </Card>
    </>
  );
}
