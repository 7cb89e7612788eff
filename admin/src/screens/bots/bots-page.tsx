import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { Bot, ChevronRight, Plus } from 'lucide-react';
import { useState } from 'react';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import { PageHeader, QueryError } from '@/components/page';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { DialogContent, DialogRoot } from '@/components/ui/dialog';
import { EmptyState } from '@/components/ui/empty-state';
import { Field, FormError, Input, Textarea } from '@/components/ui/input';
import { Pagination, useCursorPages } from '@/components/ui/pagination';
import { TableSkeleton } from '@/components/ui/skeleton';
import { Table, TBody, TD, TH, THead, TR } from '@/components/ui/table';
import { useFormat, useT } from '@/i18n';
import { useZodForm } from '@/lib/form';
import { useWorkspace } from '@/lib/workspace';
import { botSchema } from '@/schemas';

export default function BotsPage() {
  const t = useT();
  const format = useFormat();
  const { ws, can } = useWorkspace();
  const pages = useCursorPages();
  const [creating, setCreating] = useState(false);
  const bots = useQuery({
    queryKey: ['bots', ws, pages.cursor],
    queryFn: () =>
      unwrap(
        api.GET('/api/workspaces/{ws}/bots', {
          params: { path: { ws }, query: { limit: 20, cursor: pages.cursor } },
        }),
      ),
  });
  const create = can('admin') && (
    <Button onClick={() => setCreating(true)}>
      <Plus /> {t('bots.create')}
    </Button>
  );
  return (
    <>
      <PageHeader title={t('nav.bots')} description={t('bots.description')} actions={create} />
      <Card>
        {bots.isPending ? (
          <TableSkeleton />
        ) : bots.isError ? (
          <QueryError error={bots.error} retry={() => bots.refetch()} />
        ) : bots.data.items.length === 0 ? (
          <EmptyState
            icon={Bot}
            title={t('bots.emptyTitle')}
            description={t('bots.emptyDescription')}
            action={create}
          />
        ) : (
          <>
            <Table>
              <THead>
                <tr>
                  <TH>{t('field.name')}</TH>
                  <TH>{t('bots.status')}</TH>
                  <TH className="hidden sm:table-cell">{t('bots.version')}</TH>
                  <TH className="hidden md:table-cell">{t('common.updated')}</TH>
                  <TH className="w-8">
                    <span className="sr-only">{t('common.open')}</span>
                  </TH>
                </tr>
              </THead>
              <TBody>
                {bots.data.items.map((bot) => (
                  <TR key={bot.id} className="group cursor-pointer">
                    <TD>
                      <Link to={`/w/${ws}/bots/${bot.id}`} className="flex items-center gap-3 font-medium">
                        <span className="flex size-9 shrink-0 items-center justify-center rounded-lg bg-primary/10 text-primary">
                          <Bot className="size-4.5" />
                        </span>
                        <span className="min-w-0">
                          <span className="block truncate">{bot.name}</span>
                          {bot.description && (
                            <span className="block max-w-[13rem] truncate text-xs font-normal text-muted-foreground sm:max-w-md">
                              {bot.description}
                            </span>
                          )}
                        </span>
                      </Link>
                    </TD>
                    <TD>
                      <Badge tone={bot.status === 'active' ? 'success' : 'warning'}>
                        <span className="size-1.5 rounded-full bg-current" />{' '}
                        {t(bot.status === 'active' ? 'bots.active' : 'bots.paused')}
                      </Badge>
                    </TD>
                    <TD className="hidden text-muted-foreground sm:table-cell">v{bot.publishedVersion}</TD>
                    <TD className="hidden text-muted-foreground md:table-cell">
                      {format.ago(bot.updatedAt)}
                    </TD>
                    <TD>
                      <ChevronRight className="size-4 text-muted-foreground transition-transform group-hover:translate-x-0.5" />
                    </TD>
                  </TR>
                ))}
              </TBody>
            </Table>
            <Pagination pages={pages} nextCursor={bots.data.nextCursor} />
          </>
        )}
      </Card>
      <CreateBotDialog open={creating} onOpenChange={setCreating} />
    </>
  );
}

function CreateBotDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const t = useT();
  const { ws } = useWorkspace();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const form = useZodForm(botSchema, { name: '', description: '' });
  return (
    <DialogRoot open={open} onOpenChange={onOpenChange}>
      <DialogContent title={t('bots.create')} description={t('bots.createDescription')}>
        <form
          className="grid gap-4"
          noValidate
          onSubmit={form.handleSubmit(async (data) => {
            const bot = await unwrap(
              api.POST('/api/workspaces/{ws}/bots', {
                params: { path: { ws } },
                body: { name: data.name, description: data.description || undefined },
              }),
            );
            await queryClient.invalidateQueries({ queryKey: ['bots', ws] });
            onOpenChange(false);
            form.setValues({ name: '', description: '' });
            await navigate({ to: `/w/${ws}/bots/${bot.id}` });
          })}
        >
          <Field label={t('field.name')} error={form.errors.name}>
            {(props) => (
              <Input
                {...props}
                autoFocus
                placeholder={t('bots.namePlaceholder')}
                value={form.values.name}
                onChange={(event) => form.set('name', event.target.value)}
              />
            )}
          </Field>
          <Field label={t('field.description')} error={form.errors.description}>
            {(props) => (
              <Textarea
                {...props}
                rows={3}
                value={form.values.description ?? ''}
                onChange={(event) => form.set('description', event.target.value)}
              />
            )}
          </Field>
          <FormError message={form.formError} />
          <div className="flex justify-end gap-2">
            <Button variant="outline" onClick={() => onOpenChange(false)}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" loading={form.submitting}>
              {t('bots.create')}
            </Button>
          </div>
        </form>
      </DialogContent>
    </DialogRoot>
  );
}
