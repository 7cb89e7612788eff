import { useQuery, useQueryClient } from '@tanstack/react-query';
import { KeyRound, Plus } from 'lucide-react';
import { useState } from 'react';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import { PageHeader, QueryError } from '@/components/page';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { Confirm, DialogContent, DialogRoot } from '@/components/ui/dialog';
import { EmptyState } from '@/components/ui/empty-state';
import { Field, FormError, Input } from '@/components/ui/input';
import { TableSkeleton } from '@/components/ui/skeleton';
import { Table, TBody, TD, TH, THead, TR } from '@/components/ui/table';
import { toast } from '@/components/ui/toast';
import { useFormat, useT } from '@/i18n';
import { useZodForm } from '@/lib/form';
import { useWorkspace } from '@/lib/workspace';
import { API_KEY_SCOPES, apiKeySchema } from '@/schemas';
import { CopyField } from '../members/members-page';

export default function ApiKeysPage() {
  const t = useT();
  const format = useFormat();
  const { ws } = useWorkspace();
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);
  const keys = useQuery({
    queryKey: ['api-keys', ws],
    queryFn: () => unwrap(api.GET('/api/workspaces/{ws}/api-keys', { params: { path: { ws } } })),
  });
  const create = (
    <Button onClick={() => setCreating(true)}>
      <Plus /> {t('apiKeys.create')}
    </Button>
  );
  return (
    <>
      <PageHeader title={t('nav.apiKeys')} description={t('apiKeys.description')} actions={create} />
      <Card>
        {keys.isPending ? (
          <TableSkeleton rows={3} />
        ) : keys.isError ? (
          <QueryError error={keys.error} retry={() => keys.refetch()} />
        ) : keys.data.items.length === 0 ? (
          <EmptyState
            icon={KeyRound}
            title={t('apiKeys.emptyTitle')}
            description={t('apiKeys.emptyDescription')}
            action={create}
          />
        ) : (
          <Table>
            <THead>
              <tr>
                <TH>{t('field.name')}</TH>
                <TH>{t('apiKeys.scopes')}</TH>
                <TH className="hidden md:table-cell">{t('common.created')}</TH>
                <TH className="hidden md:table-cell">{t('apiKeys.lastUsed')}</TH>
                <TH className="w-24">
                  <span className="sr-only">{t('common.actions')}</span>
                </TH>
              </tr>
            </THead>
            <TBody>
              {keys.data.items.map((key) => (
                <TR key={key.id} className={key.revokedAt ? 'opacity-60' : undefined}>
                  <TD>
                    <p className="font-medium">{key.name}</p>
                    <code className="text-xs text-muted-foreground">{key.prefix}…</code>
                  </TD>
                  <TD>
                    <div className="flex flex-wrap gap-1">
                      {key.revokedAt ? (
                        <Badge tone="danger">{t('apiKeys.revoked')}</Badge>
                      ) : (
                        key.scopes.map((scope) => (
                          <Badge key={scope} tone="primary">
                            {scope}
                          </Badge>
                        ))
                      )}
                    </div>
                  </TD>
                  <TD className="hidden text-muted-foreground md:table-cell">{format.date(key.createdAt)}</TD>
                  <TD className="hidden text-muted-foreground md:table-cell">
                    {key.lastUsedAt ? format.ago(key.lastUsedAt) : t('apiKeys.never')}
                  </TD>
                  <TD className="text-right">
                    {!key.revokedAt && (
                      <Confirm
                        title={t('apiKeys.revokeTitle', { name: key.name })}
                        description={t('apiKeys.revokeDescription')}
                        confirmLabel={t('apiKeys.revoke')}
                        onConfirm={async () => {
                          await unwrap(
                            api.DELETE('/api/workspaces/{ws}/api-keys/{keyId}', {
                              params: { path: { ws, keyId: key.id } },
                            }),
                          );
                          await queryClient.invalidateQueries({ queryKey: ['api-keys', ws] });
                          toast.success(t('apiKeys.revokedToast'));
                        }}
                      >
                        <Button variant="ghost" size="sm" className="text-destructive">
                          {t('apiKeys.revoke')}
                        </Button>
                      </Confirm>
                    )}
                  </TD>
                </TR>
              ))}
            </TBody>
          </Table>
        )}
      </Card>
      <CreateKeyDialog open={creating} onOpenChange={setCreating} />
    </>
  );
}

function CreateKeyDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const t = useT();
  const { ws } = useWorkspace();
  const queryClient = useQueryClient();
  const form = useZodForm(apiKeySchema, { name: '', scopes: ['read'] });
  const [secret, setSecret] = useState<string | null>(null);
  const close = (next: boolean) => {
    onOpenChange(next);
    if (!next) {
      setSecret(null);
      form.setValues({ name: '', scopes: ['read'] });
    }
  };
  return (
    <DialogRoot open={open} onOpenChange={close}>
      <DialogContent
        title={secret ? t('apiKeys.created') : t('apiKeys.create')}
        description={secret ? t('apiKeys.secretOnce') : t('apiKeys.createDescription')}
      >
        {secret ? (
          <div className="grid gap-4">
            <CopyField value={secret} />
            <div className="flex justify-end">
              <Button onClick={() => close(false)}>{t('common.done')}</Button>
            </div>
          </div>
        ) : (
          <form
            className="grid gap-4"
            noValidate
            onSubmit={form.handleSubmit(async (data) => {
              const result = await unwrap(
                api.POST('/api/workspaces/{ws}/api-keys', { params: { path: { ws } }, body: data }),
              );
              await queryClient.invalidateQueries({ queryKey: ['api-keys', ws] });
              setSecret(result.secret);
            })}
          >
            <Field label={t('field.name')} error={form.errors.name}>
              {(props) => (
                <Input
                  {...props}
                  autoFocus
                  placeholder={t('apiKeys.namePlaceholder')}
                  value={form.values.name}
                  onChange={(event) => form.set('name', event.target.value)}
                />
              )}
            </Field>
            <fieldset className="grid gap-2">
              <legend className="mb-1 text-sm font-medium">{t('apiKeys.scopes')}</legend>
              {API_KEY_SCOPES.map((scope) => (
                <label
                  key={scope}
                  className="flex items-start gap-3 rounded-lg border p-3 text-sm has-[:checked]:border-primary/50 has-[:checked]:bg-primary/5"
                >
                  <input
                    type="checkbox"
                    className="mt-0.5 size-4 accent-[var(--primary)]"
                    checked={form.values.scopes.includes(scope)}
                    onChange={(event) =>
                      form.set(
                        'scopes',
                        event.target.checked
                          ? [...form.values.scopes, scope]
                          : form.values.scopes.filter((item) => item !== scope),
                      )
                    }
                  />
                  <span>
                    <span className="font-medium">{scope}</span>
                    <span className="block text-muted-foreground">{t(`apiKeys.scope.${scope}`)}</span>
                  </span>
                </label>
              ))}
              {form.errors.scopes && <p className="text-[13px] text-destructive">{form.errors.scopes}</p>}
            </fieldset>
            <FormError message={form.formError} />
            <div className="flex justify-end gap-2">
              <Button variant="outline" onClick={() => close(false)}>
                {t('common.cancel')}
              </Button>
              <Button type="submit" loading={form.submitting}>
                {t('apiKeys.create')}
              </Button>
            </div>
          </form>
        )}
      </DialogContent>
    </DialogRoot>
  );
}
