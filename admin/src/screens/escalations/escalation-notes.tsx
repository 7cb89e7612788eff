import { useInfiniteQuery, useQueryClient } from '@tanstack/react-query';
import { StickyNote } from 'lucide-react';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import { Avatar } from '@/components/ops';
import { QueryError } from '@/components/page';
import { Button } from '@/components/ui/button';
import { FormError, Textarea } from '@/components/ui/input';
import { Skeleton } from '@/components/ui/skeleton';
import { useFormat, useT } from '@/i18n';
import { cn } from '@/lib/cn';
import { useZodForm } from '@/lib/form';
import { useWorkspace } from '@/lib/workspace';
import { noteSchema } from '@/ops-schemas';

/** Internal notes of an escalation (operators and up see them), newest first, with a form. */
export function EscalationNotes({ escalationId, compact }: { escalationId: string; compact?: boolean }) {
  const t = useT();
  const format = useFormat();
  const { ws, can } = useWorkspace();
  const queryClient = useQueryClient();
  const notes = useInfiniteQuery({
    queryKey: ['escalation-notes', ws, escalationId],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/api/workspaces/{ws}/escalations/{escalationId}/notes', {
          params: { path: { ws, escalationId }, query: { limit: 20, cursor: pageParam } },
        }),
      ),
    getNextPageParam: (page) => page.nextCursor ?? undefined,
  });
  const form = useZodForm(noteSchema, { body: '' });
  const items = notes.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <div className={cn('grid min-w-0 grid-cols-[minmax(0,1fr)] gap-4', compact ? 'p-4' : '')}>
      <h3 className="flex items-center gap-2 text-sm font-semibold">
        <StickyNote className="size-4 text-muted-foreground" /> {t('escalations.notes')}
      </h3>
      {can('operator') && (
        <form
          className="grid gap-2"
          noValidate
          onSubmit={form.handleSubmit(async (data) => {
            await unwrap(
              api.POST('/api/workspaces/{ws}/escalations/{escalationId}/notes', {
                params: { path: { ws, escalationId } },
                body: data,
              }),
            );
            form.setValues({ body: '' });
            await queryClient.invalidateQueries({ queryKey: ['escalation-notes', ws, escalationId] });
          })}
        >
          <Textarea
            aria-label={t('escalations.addNote')}
            placeholder={t('escalations.notePlaceholder')}
            value={form.values.body}
            onChange={(event) => form.set('body', event.target.value)}
            aria-invalid={form.errors.body ? true : undefined}
            className="min-h-16 text-[13px]"
          />
          <FormError message={form.errors.body ?? form.formError} />
          <div className="flex justify-end">
            <Button type="submit" size="sm" variant="outline" loading={form.submitting}>
              {t('escalations.addNote')}
            </Button>
          </div>
        </form>
      )}
      {notes.isPending ? (
        <Skeleton className="h-14 w-full" />
      ) : notes.isError ? (
        <QueryError error={notes.error} retry={() => notes.refetch()} />
      ) : items.length === 0 ? (
        <p className="text-sm text-muted-foreground">{t('escalations.noNotes')}</p>
      ) : (
        <ul className="flex flex-col gap-3">
          {items.map((note) => (
            <li key={note.id} className="flex gap-2.5">
              <Avatar name={note.authorEmail ?? '?'} className="size-7 text-[10px]" />
              <div className="min-w-0 flex-1 rounded-lg bg-warning/10 px-3 py-2 ring-1 ring-warning/20">
                <p className="flex justify-between gap-2 text-xs text-muted-foreground">
                  <span className="min-w-0 truncate">{note.authorEmail ?? t('escalations.system')}</span>
                  <time className="shrink-0" dateTime={note.createdAt}>
                    {format.ago(note.createdAt)}
                  </time>
                </p>
                <p className="mt-1 text-[13px] whitespace-pre-wrap">{note.body}</p>
              </div>
            </li>
          ))}
          {notes.hasNextPage && (
            <li>
              <Button
                variant="ghost"
                size="sm"
                loading={notes.isFetchingNextPage}
                onClick={() => notes.fetchNextPage()}
              >
                {t('ops.more')}
              </Button>
            </li>
          )}
        </ul>
      )}
    </div>
  );
}
