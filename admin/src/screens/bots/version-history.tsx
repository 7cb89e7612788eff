import { useQuery, useQueryClient } from '@tanstack/react-query';
import { History, RotateCcw } from 'lucide-react';
import { useState } from 'react';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import type { components } from '@/api/schema';
import { DiffView } from '@/components/diff-view';
import { QueryError } from '@/components/page';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { Confirm } from '@/components/ui/dialog';
import { EmptyState } from '@/components/ui/empty-state';
import { Pagination, useCursorPages } from '@/components/ui/pagination';
import { TableSkeleton } from '@/components/ui/skeleton';
import { toast } from '@/components/ui/toast';
import { useFormat, useT } from '@/i18n';
import { cn } from '@/lib/cn';
import { diffJson } from '@/lib/diff';
import { useWorkspace } from '@/lib/workspace';

type Version = components['schemas']['BotConfigVersion'];

/** Published and archived versions; each shows what it changed against the one before it. */
export function VersionHistory({ botId }: { botId: string }) {
  const t = useT();
  const format = useFormat();
  const { ws, can } = useWorkspace();
  const queryClient = useQueryClient();
  const pages = useCursorPages();
  const [selected, setSelected] = useState<number | null>(null);
  const versions = useQuery({
    queryKey: ['bot-versions', ws, botId, pages.cursor],
    queryFn: () =>
      unwrap(
        api.GET('/api/workspaces/{ws}/bots/{bot}/config/versions', {
          params: { path: { ws, bot: botId }, query: { limit: 20, cursor: pages.cursor } },
        }),
      ),
  });
  const items = versions.data?.items ?? [];
  const current = items.find((item) => item.version === selected) ?? items[0];
  const previousNumber = current?.version != null && current.version > 1 ? current.version - 1 : null;
  const previous = useQuery({
    queryKey: ['bot-version', ws, botId, previousNumber],
    enabled: previousNumber !== null,
    queryFn: () =>
      unwrap(
        api.GET('/api/workspaces/{ws}/bots/{bot}/config/versions/{version}', {
          params: { path: { ws, bot: botId, version: previousNumber ?? 1 } },
        }),
      ),
  });

  if (versions.isPending)
    return (
      <Card>
        <TableSkeleton rows={4} />
      </Card>
    );
  if (versions.isError)
    return (
      <Card>
        <QueryError error={versions.error} retry={() => versions.refetch()} />
      </Card>
    );
  if (!current)
    return (
      <Card>
        <EmptyState
          icon={History}
          title={t('history.emptyTitle')}
          description={t('history.emptyDescription')}
        />
      </Card>
    );

  return (
    <div className="grid gap-6 lg:grid-cols-[300px_1fr]">
      <Card className="self-start overflow-hidden">
        <ul className="divide-y" aria-label={t('history.title')}>
          {items.map((item) => (
            <li key={item.version}>
              <button
                type="button"
                onClick={() => setSelected(item.version)}
                aria-current={item.version === current.version || undefined}
                className={cn(
                  'w-full px-4 py-3 text-left transition-colors hover:bg-muted/50',
                  item.version === current.version && 'bg-primary/6 shadow-[inset_3px_0_0_var(--primary)]',
                )}
              >
                <span className="flex items-center gap-2 text-sm font-medium">
                  v{item.version}
                  {item.status === 'published' && <Badge tone="success">{t('history.live')}</Badge>}
                </span>
                <span className="mt-0.5 block truncate text-xs text-muted-foreground">
                  {format.dateTime(item.publishedAt ?? item.createdAt)} ·{' '}
                  {item.author?.name || item.author?.email || t('history.system')}
                </span>
                {item.note && (
                  <span className="mt-1 block truncate text-xs text-foreground/80">“{item.note}”</span>
                )}
              </button>
            </li>
          ))}
        </ul>
        <Pagination pages={pages} nextCursor={versions.data.nextCursor} />
      </Card>
      <Card>
        <CardHeader
          title={t('history.changesIn', { version: current.version ?? '' })}
          description={
            previousNumber ? t('history.against', { version: previousNumber }) : t('history.first')
          }
          actions={
            can('admin') &&
            current.status !== 'published' &&
            current.version !== null && (
              <RollbackButton
                version={current}
                onDone={async () => {
                  await queryClient.invalidateQueries({ queryKey: ['bot-versions', ws, botId] });
                  await queryClient.invalidateQueries({ queryKey: ['bot-config', ws, botId] });
                  await queryClient.invalidateQueries({ queryKey: ['bot', ws, botId] });
                }}
                botId={botId}
              />
            )
          }
        />
        <CardBody>
          {previousNumber !== null && previous.isPending ? (
            <TableSkeleton rows={3} columns={1} />
          ) : (
            <DiffView
              changes={previousNumber === null ? [] : diffJson(previous.data?.config, current.config)}
            />
          )}
        </CardBody>
      </Card>
    </div>
  );
}

function RollbackButton({
  version,
  botId,
  onDone,
}: {
  version: Version;
  botId: string;
  onDone: () => Promise<void>;
}) {
  const t = useT();
  const { ws } = useWorkspace();
  return (
    <Confirm
      title={t('history.rollbackTitle', { version: version.version ?? '' })}
      description={t('history.rollbackDescription')}
      confirmLabel={t('history.rollback')}
      destructive={false}
      onConfirm={async () => {
        try {
          const published = await unwrap(
            api.POST('/api/workspaces/{ws}/bots/{bot}/config/rollback', {
              params: { path: { ws, bot: botId } },
              body: {
                version: version.version ?? 1,
                note: t('history.rollbackNote', { version: version.version ?? '' }),
              },
            }),
          );
          await onDone();
          toast.success(t('history.rolledBack', { version: published.version ?? '' }));
        } catch (error) {
          toast.error(t('history.rollbackFailed'), error instanceof Error ? error.message : undefined);
        }
      }}
    >
      <Button variant="outline" size="sm">
        <RotateCcw /> {t('history.rollback')}
      </Button>
    </Confirm>
  );
}
