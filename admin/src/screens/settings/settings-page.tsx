import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import { PageHeader, QueryError } from '@/components/page';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { Field, FormError, Input, Select } from '@/components/ui/input';
import { Skeleton } from '@/components/ui/skeleton';
import { toast } from '@/components/ui/toast';
import { useT } from '@/i18n';
import { useMe } from '@/lib/auth';
import { useZodForm } from '@/lib/form';
import { useWorkspace } from '@/lib/workspace';
import { workspaceSchema } from '@/schemas';
import { OperationsSettings } from './operations-settings';

/**
 * Workspace settings. Further sections (LLM providers, notifications, SLA) are cards added
 * below the workspace card, each its own component with its own form.
 */
export default function SettingsPage() {
  const t = useT();
  return (
    <>
      <PageHeader title={t('nav.settings')} description={t('settings.description')} />
      <div className="grid gap-6">
        <WorkspaceSettings />
        <OperationsSettings />
      </div>
    </>
  );
}

const TIMEZONES = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
const CURRENCIES = ['RUB', 'USD', 'EUR', 'KZT', 'BYN', 'UAH', 'GBP', 'TRY', 'AED', 'CNY'];

function WorkspaceSettings() {
  const t = useT();
  const { ws, can } = useWorkspace();
  const me = useMe();
  const queryClient = useQueryClient();
  const workspace = useQuery({
    queryKey: ['workspace', ws],
    queryFn: () => unwrap(api.GET('/api/workspaces/{ws}', { params: { path: { ws } } })),
  });
  const form = useZodForm(workspaceSchema, { name: '', timezone: 'UTC', currency: 'RUB', language: 'en' });
  const { setValues } = form;
  useEffect(() => {
    if (workspace.data) {
      const { name, timezone, currency, language } = workspace.data;
      setValues({ name, timezone, currency, language: language === 'ru' ? 'ru' : 'en' });
    }
  }, [workspace.data, setValues]);
  const readOnly = !can('admin');
  return (
    <Card>
      <CardHeader title={t('settings.workspace')} description={t('settings.workspaceDescription')} />
      <CardBody>
        {workspace.isPending ? (
          <div className="grid gap-4">
            <Skeleton className="h-9" />
            <Skeleton className="h-9" />
          </div>
        ) : workspace.isError ? (
          <QueryError error={workspace.error} retry={() => workspace.refetch()} />
        ) : (
          <form
            noValidate
            onSubmit={form.handleSubmit(async (data) => {
              await unwrap(api.PATCH('/api/workspaces/{ws}', { params: { path: { ws } }, body: data }));
              await queryClient.invalidateQueries({ queryKey: ['workspace', ws] });
              await me.refetch();
              toast.success(t('settings.saved'));
            })}
          >
            <fieldset disabled={readOnly} className="grid gap-5 sm:grid-cols-2">
              <Field label={t('field.workspaceName')} error={form.errors.name} className="sm:col-span-2">
                {(props) => (
                  <Input
                    {...props}
                    value={form.values.name}
                    onChange={(event) => form.set('name', event.target.value)}
                  />
                )}
              </Field>
              <Field
                label={t('field.timezone')}
                error={form.errors.timezone}
                hint={t('settings.timezoneHint')}
              >
                {(props) => (
                  <>
                    <Input
                      {...props}
                      list="sb-timezones"
                      value={form.values.timezone}
                      onChange={(event) => form.set('timezone', event.target.value)}
                    />
                    <datalist id="sb-timezones">
                      {TIMEZONES.map((zone) => (
                        <option key={zone} value={zone} />
                      ))}
                    </datalist>
                  </>
                )}
              </Field>
              <Field label={t('settings.currency')} error={form.errors.currency}>
                {(props) => (
                  <>
                    <Input
                      {...props}
                      list="sb-currencies"
                      maxLength={3}
                      value={form.values.currency}
                      onChange={(event) => form.set('currency', event.target.value.toUpperCase())}
                    />
                    <datalist id="sb-currencies">
                      {CURRENCIES.map((code) => (
                        <option key={code} value={code} />
                      ))}
                    </datalist>
                  </>
                )}
              </Field>
              <Field
                label={t('settings.language')}
                error={form.errors.language}
                hint={t('settings.languageHint')}
              >
                {(props) => (
                  <Select
                    {...props}
                    value={form.values.language}
                    onChange={(event) => form.set('language', event.target.value === 'ru' ? 'ru' : 'en')}
                  >
                    <option value="en">English</option>
                    <option value="ru">Русский</option>
                  </Select>
                )}
              </Field>
              <div className="sm:col-span-2 grid gap-3">
                <FormError message={form.formError} />
                {!readOnly && (
                  <div>
                    <Button type="submit" loading={form.submitting}>
                      {t('common.save')}
                    </Button>
                  </div>
                )}
              </div>
            </fieldset>
          </form>
        )}
      </CardBody>
    </Card>
  );
}
