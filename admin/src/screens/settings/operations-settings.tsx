import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Cpu, MessageSquareQuote, Pencil, PlugZap, Plus, Trash2 } from 'lucide-react';
import { useEffect, useState } from 'react';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import { errorText } from '@/components/ops';
import { QueryError } from '@/components/page';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { Confirm, DialogContent, DialogRoot } from '@/components/ui/dialog';
import { EmptyState } from '@/components/ui/empty-state';
import { Field, FormError, Input, Select, Textarea } from '@/components/ui/input';
import { Skeleton, TableSkeleton } from '@/components/ui/skeleton';
import { Switch } from '@/components/ui/switch';
import { toast } from '@/components/ui/toast';
import { useT } from '@/i18n';
import { useZodForm } from '@/lib/form';
import { useWorkspace } from '@/lib/workspace';
import { cannedResponseSchema, escalationSettingsSchema, llmProviderSchema } from '@/ops-schemas';

/**
 * The settings cards of the operating features: LLM providers (keys are write-only), the
 * escalation SLA and notifications, and the operators' canned responses.
 */
export function OperationsSettings() {
  const { can } = useWorkspace();
  return (
    <>
      {can('admin') && <LlmProviders />}
      {can('admin') && <EscalationSettings />}
      <CannedResponses />
    </>
  );
}

type Provider = {
  id: string;
  name: string;
  baseUrl: string;
  apiKeySet: boolean;
  apiKeyLast4: string | null;
  chatModel: string | null;
  embeddingsModel: string | null;
  transcriptionModel: string | null;
  visionModel: string | null;
  priority: number;
  enabled: boolean;
};

function LlmProviders() {
  const t = useT();
  const { ws } = useWorkspace();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Provider | 'new' | null>(null);
  const providers = useQuery({
    queryKey: ['llm-providers', ws],
    queryFn: () => unwrap(api.GET('/api/workspaces/{ws}/llm/providers', { params: { path: { ws } } })),
  });
  const settings = useQuery({
    queryKey: ['llm-settings', ws],
    queryFn: () => unwrap(api.GET('/api/workspaces/{ws}/llm/settings', { params: { path: { ws } } })),
  });
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: ['llm-providers', ws] }),
      queryClient.invalidateQueries({ queryKey: ['llm-settings', ws] }),
    ]);
  const test = async (provider: Provider) => {
    try {
      const result = await unwrap(
        api.POST('/api/workspaces/{ws}/llm/providers/{id}/test', {
          params: { path: { ws, id: provider.id } },
        }),
      );
      if (result.ok) toast.success(t('llm.testOk', { ms: result.latencyMs }), result.model ?? undefined);
      else toast.error(t('llm.testFailed'), result.error ?? undefined);
    } catch (error) {
      toast.error(t('llm.testFailed'), errorText(error));
    }
  };
  return (
    <Card>
      <CardHeader
        title={t('llm.title')}
        description={t('llm.description')}
        actions={
          <Button size="sm" onClick={() => setEditing('new')}>
            <Plus /> {t('llm.add')}
          </Button>
        }
      />
      {settings.data && (
        <div className="flex flex-wrap items-center justify-between gap-3 border-b px-5 py-3 text-sm">
          <div className="grid gap-0.5">
            <span className="font-medium">{t('llm.platformDefault')}</span>
            <span className="text-muted-foreground">
              {settings.data.platformDefault.configured
                ? t('llm.platformConfigured')
                : t('llm.platformMissing')}
            </span>
          </div>
          <Switch
            checked={settings.data.usePlatformDefault}
            disabled={!settings.data.platformDefault.configured}
            aria-label={t('llm.platformDefault')}
            onCheckedChange={async (checked) => {
              try {
                await unwrap(
                  api.PUT('/api/workspaces/{ws}/llm/settings', {
                    params: { path: { ws } },
                    body: { usePlatformDefault: checked },
                  }),
                );
                await refresh();
              } catch (error) {
                toast.error(t('common.failed'), errorText(error));
              }
            }}
          />
        </div>
      )}
      {settings.data && (
        <div className="flex flex-wrap gap-1.5 border-b px-5 py-3">
          {(['chat', 'embeddings', 'transcription', 'vision'] as const).map((capability) => (
            <Badge key={capability} tone={settings.data.capabilities[capability] ? 'success' : 'neutral'}>
              {t(`llm.cap.${capability}`)}
            </Badge>
          ))}
        </div>
      )}
      {providers.isPending ? (
        <TableSkeleton rows={2} />
      ) : providers.isError ? (
        <QueryError error={providers.error} retry={() => providers.refetch()} />
      ) : providers.data.items.length === 0 ? (
        <EmptyState icon={Cpu} title={t('llm.emptyTitle')} description={t('llm.emptyDescription')} />
      ) : (
        <ul className="divide-y">
          {providers.data.items.map((provider) => {
            const breaker = settings.data?.chain.find((item) => item.id === provider.id)?.breaker;
            return (
              <li key={provider.id} className="flex flex-wrap items-center gap-3 px-5 py-3 text-sm">
                <div className="min-w-0 flex-1">
                  <p className="flex items-center gap-2 font-medium">
                    {provider.name}
                    {!provider.enabled && <Badge>{t('llm.disabled')}</Badge>}
                    {breaker && breaker.state !== 'closed' && (
                      <Badge tone="danger">{t('llm.breakerOpen')}</Badge>
                    )}
                  </p>
                  <p className="truncate text-xs text-muted-foreground">
                    {provider.baseUrl} · {provider.chatModel ?? '—'} ·{' '}
                    {provider.apiKeySet ? `••••${provider.apiKeyLast4 ?? ''}` : t('llm.noKey')}
                  </p>
                </div>
                <span className="text-xs text-muted-foreground">
                  {t('llm.priorityN', { n: provider.priority })}
                </span>
                <Button variant="outline" size="sm" onClick={() => test(provider)}>
                  <PlugZap /> {t('llm.test')}
                </Button>
                <Button
                  variant="ghost"
                  size="icon"
                  className="size-8 text-muted-foreground"
                  aria-label={t('knowledge.edit')}
                  onClick={() => setEditing(provider)}
                >
                  <Pencil />
                </Button>
                <Confirm
                  title={t('llm.deleteTitle', { name: provider.name })}
                  description={t('llm.deleteDescription')}
                  confirmLabel={t('common.delete')}
                  onConfirm={async () => {
                    try {
                      await unwrap(
                        api.DELETE('/api/workspaces/{ws}/llm/providers/{id}', {
                          params: { path: { ws, id: provider.id } },
                        }),
                      );
                      await refresh();
                    } catch (error) {
                      toast.error(t('common.failed'), errorText(error));
                    }
                  }}
                >
                  <Button
                    variant="ghost"
                    size="icon"
                    className="size-8 text-muted-foreground hover:text-destructive"
                    aria-label={t('common.delete')}
                  >
                    <Trash2 />
                  </Button>
                </Confirm>
              </li>
            );
          })}
        </ul>
      )}
      {editing && (
        <ProviderDialog
          provider={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={refresh}
        />
      )}
    </Card>
  );
}

function ProviderDialog({
  provider,
  onClose,
  onSaved,
}: {
  provider: Provider | null;
  onClose: () => void;
  onSaved: () => Promise<unknown>;
}) {
  const t = useT();
  const { ws } = useWorkspace();
  const form = useZodForm(llmProviderSchema, {
    name: provider?.name ?? '',
    baseUrl: provider?.baseUrl ?? 'https://api.openai.com/v1',
    apiKey: '',
    chatModel: provider?.chatModel ?? '',
    embeddingsModel: provider?.embeddingsModel ?? '',
    transcriptionModel: provider?.transcriptionModel ?? '',
    visionModel: provider?.visionModel ?? '',
    priority: String(provider?.priority ?? 0),
    enabled: provider?.enabled ?? true,
  });
  const text = (
    key:
      | 'name'
      | 'baseUrl'
      | 'chatModel'
      | 'embeddingsModel'
      | 'transcriptionModel'
      | 'visionModel'
      | 'priority',
    label: string,
    placeholder?: string,
  ) => (
    <Field label={label} error={form.errors[key]}>
      {(props) => (
        <Input
          {...props}
          placeholder={placeholder}
          value={form.values[key]}
          onChange={(event) => form.set(key, event.target.value)}
        />
      )}
    </Field>
  );
  return (
    <DialogRoot open onOpenChange={(next) => !next && onClose()}>
      <DialogContent
        title={provider ? provider.name : t('llm.add')}
        description={t('llm.dialogHint')}
        className="sm:max-w-xl"
      >
        <form
          className="grid gap-4"
          noValidate
          onSubmit={form.handleSubmit(async ({ apiKey, ...rest }) => {
            // The key is write-only: an empty field keeps the stored one.
            const body = { ...rest, ...(apiKey ? { apiKey } : provider ? {} : { apiKey: null }) };
            if (provider)
              await unwrap(
                api.PATCH('/api/workspaces/{ws}/llm/providers/{id}', {
                  params: { path: { ws, id: provider.id } },
                  body,
                }),
              );
            else
              await unwrap(
                api.POST('/api/workspaces/{ws}/llm/providers', { params: { path: { ws } }, body }),
              );
            await onSaved();
            onClose();
          })}
        >
          <div className="grid gap-4 sm:grid-cols-2">
            {text('name', t('field.name'), 'OpenAI')}
            {text('baseUrl', t('llm.baseUrl'))}
          </div>
          <Field
            label={t('llm.apiKey')}
            error={form.errors.apiKey}
            hint={
              provider?.apiKeySet ? t('llm.keyKept', { last4: provider.apiKeyLast4 ?? '' }) : t('llm.keyHint')
            }
          >
            {(props) => (
              <Input
                {...props}
                type="password"
                autoComplete="off"
                value={form.values.apiKey}
                onChange={(event) => form.set('apiKey', event.target.value)}
              />
            )}
          </Field>
          <div className="grid gap-4 sm:grid-cols-2">
            {text('chatModel', t('llm.chatModel'), 'gpt-4o-mini')}
            {text('embeddingsModel', t('llm.embeddingsModel'), 'text-embedding-3-small')}
            {text('transcriptionModel', t('llm.transcriptionModel'), 'whisper-1')}
            {text('visionModel', t('llm.visionModel'), 'gpt-4o-mini')}
          </div>
          <div className="grid items-end gap-4 sm:grid-cols-2">
            {text('priority', t('llm.priority'))}
            <label htmlFor="provider-enabled" className="flex items-center gap-3 pb-2 text-sm font-medium">
              <Switch
                id="provider-enabled"
                checked={form.values.enabled}
                onCheckedChange={(checked) => form.set('enabled', checked)}
              />{' '}
              {t('llm.enabled')}
            </label>
          </div>
          <FormError message={form.formError} />
          <div className="flex justify-end gap-2">
            <Button variant="outline" onClick={onClose}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" loading={form.submitting}>
              {t('common.save')}
            </Button>
          </div>
        </form>
      </DialogContent>
    </DialogRoot>
  );
}

function EscalationSettings() {
  const t = useT();
  const { ws } = useWorkspace();
  const queryClient = useQueryClient();
  const settings = useQuery({
    queryKey: ['escalation-settings', ws],
    queryFn: () => unwrap(api.GET('/api/workspaces/{ws}/settings/escalations', { params: { path: { ws } } })),
  });
  const form = useZodForm(escalationSettingsSchema, {
    slaMinutes: '30',
    assignment: 'manual',
    snapshotSize: '20',
    notifyTelegramChatId: '',
    emailAssignee: false,
  });
  const { setValues } = form;
  useEffect(() => {
    if (!settings.data) return;
    setValues({
      slaMinutes: String(settings.data.slaMinutes),
      assignment: settings.data.assignment,
      snapshotSize: String(settings.data.snapshotSize),
      notifyTelegramChatId: settings.data.notifyTelegramChatId ?? '',
      emailAssignee: settings.data.emailAssignee,
    });
  }, [settings.data, setValues]);
  return (
    <Card>
      <CardHeader title={t('escalationSettings.title')} description={t('escalationSettings.description')} />
      <CardBody>
        {settings.isPending ? (
          <Skeleton className="h-40 w-full" />
        ) : settings.isError ? (
          <QueryError error={settings.error} retry={() => settings.refetch()} />
        ) : (
          <form
            className="grid max-w-2xl gap-4"
            noValidate
            onSubmit={form.handleSubmit(async (data) => {
              await unwrap(
                api.PUT('/api/workspaces/{ws}/settings/escalations', {
                  params: { path: { ws } },
                  body: { ...data, notifyChannelId: settings.data?.notifyChannelId ?? null },
                }),
              );
              await queryClient.invalidateQueries({ queryKey: ['escalation-settings', ws] });
              toast.success(t('settings.saved'));
            })}
          >
            <div className="grid gap-4 sm:grid-cols-3">
              <Field
                label={t('escalationSettings.sla')}
                error={form.errors.slaMinutes}
                hint={t('escalationSettings.slaHint')}
              >
                {(props) => (
                  <Input
                    {...props}
                    inputMode="numeric"
                    value={form.values.slaMinutes}
                    onChange={(event) => form.set('slaMinutes', event.target.value)}
                  />
                )}
              </Field>
              <Field label={t('escalationSettings.assignment')} error={form.errors.assignment}>
                {(props) => (
                  <Select
                    {...props}
                    value={form.values.assignment}
                    onChange={(event) => form.set('assignment', event.target.value as 'manual' | 'auto')}
                  >
                    <option value="manual">{t('escalationSettings.manual')}</option>
                    <option value="auto">{t('escalationSettings.auto')}</option>
                  </Select>
                )}
              </Field>
              <Field
                label={t('escalationSettings.snapshot')}
                error={form.errors.snapshotSize}
                hint={t('escalationSettings.snapshotHint')}
              >
                {(props) => (
                  <Input
                    {...props}
                    inputMode="numeric"
                    value={form.values.snapshotSize}
                    onChange={(event) => form.set('snapshotSize', event.target.value)}
                  />
                )}
              </Field>
            </div>
            <Field
              label={t('escalationSettings.telegramChat')}
              error={form.errors.notifyTelegramChatId}
              hint={t('escalationSettings.telegramChatHint')}
            >
              {(props) => (
                <Input
                  {...props}
                  placeholder="-1001234567890"
                  value={form.values.notifyTelegramChatId}
                  onChange={(event) => form.set('notifyTelegramChatId', event.target.value)}
                />
              )}
            </Field>
            <label htmlFor="escalation-email" className="flex items-center gap-3 text-sm font-medium">
              <Switch
                id="escalation-email"
                checked={form.values.emailAssignee}
                onCheckedChange={(checked) => form.set('emailAssignee', checked)}
              />{' '}
              {t('escalationSettings.email')}
            </label>
            <FormError message={form.formError} />
            <div>
              <Button type="submit" loading={form.submitting}>
                {t('common.save')}
              </Button>
            </div>
          </form>
        )}
      </CardBody>
    </Card>
  );
}

type Canned = { id: string; shortcut: string; text: string };

function CannedResponses() {
  const t = useT();
  const { ws, can } = useWorkspace();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Canned | 'new' | null>(null);
  const canned = useQuery({
    queryKey: ['canned', ws],
    queryFn: () => unwrap(api.GET('/api/workspaces/{ws}/canned-responses', { params: { path: { ws } } })),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['canned', ws] });
  const create = can('admin') && (
    <Button size="sm" onClick={() => setEditing('new')}>
      <Plus /> {t('canned.add')}
    </Button>
  );
  return (
    <Card>
      <CardHeader title={t('canned.title')} description={t('canned.description')} actions={create} />
      {canned.isPending ? (
        <TableSkeleton rows={2} />
      ) : canned.isError ? (
        <QueryError error={canned.error} retry={() => canned.refetch()} />
      ) : canned.data.items.length === 0 ? (
        <EmptyState
          icon={MessageSquareQuote}
          title={t('canned.emptyTitle')}
          description={t('canned.emptyDescription')}
          action={create}
        />
      ) : (
        <ul className="divide-y">
          {canned.data.items.map((item) => (
            <li key={item.id} className="flex items-start gap-3 px-5 py-3 text-sm">
              <code className="mt-0.5 rounded bg-primary/10 px-1.5 py-0.5 text-[13px] text-primary">
                /{item.shortcut}
              </code>
              <p className="min-w-0 flex-1 whitespace-pre-wrap text-muted-foreground">{item.text}</p>
              {can('admin') && (
                <div className="flex gap-1">
                  <Button
                    variant="ghost"
                    size="icon"
                    className="size-8 text-muted-foreground"
                    aria-label={t('knowledge.edit')}
                    onClick={() => setEditing(item)}
                  >
                    <Pencil />
                  </Button>
                  <Confirm
                    title={t('canned.deleteTitle', { shortcut: item.shortcut })}
                    description={t('canned.deleteDescription')}
                    confirmLabel={t('common.delete')}
                    onConfirm={async () => {
                      try {
                        await unwrap(
                          api.DELETE('/api/workspaces/{ws}/canned-responses/{cannedResponseId}', {
                            params: { path: { ws, cannedResponseId: item.id } },
                          }),
                        );
                        await refresh();
                      } catch (error) {
                        toast.error(t('common.failed'), errorText(error));
                      }
                    }}
                  >
                    <Button
                      variant="ghost"
                      size="icon"
                      className="size-8 text-muted-foreground hover:text-destructive"
                      aria-label={t('common.delete')}
                    >
                      <Trash2 />
                    </Button>
                  </Confirm>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {editing && (
        <CannedDialog
          item={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={refresh}
        />
      )}
    </Card>
  );
}

function CannedDialog({
  item,
  onClose,
  onSaved,
}: {
  item: Canned | null;
  onClose: () => void;
  onSaved: () => Promise<unknown>;
}) {
  const t = useT();
  const { ws } = useWorkspace();
  const form = useZodForm(cannedResponseSchema, { shortcut: item?.shortcut ?? '', text: item?.text ?? '' });
  return (
    <DialogRoot open onOpenChange={(next) => !next && onClose()}>
      <DialogContent
        title={item ? `/${item.shortcut}` : t('canned.add')}
        description={t('canned.dialogHint')}
      >
        <form
          className="grid gap-4"
          noValidate
          onSubmit={form.handleSubmit(async (data) => {
            if (item)
              await unwrap(
                api.PATCH('/api/workspaces/{ws}/canned-responses/{cannedResponseId}', {
                  params: { path: { ws, cannedResponseId: item.id } },
                  body: data,
                }),
              );
            else
              await unwrap(
                api.POST('/api/workspaces/{ws}/canned-responses', { params: { path: { ws } }, body: data }),
              );
            await onSaved();
            onClose();
          })}
        >
          <Field label={t('canned.shortcut')} error={form.errors.shortcut} hint={t('canned.shortcutHint')}>
            {(props) => (
              <Input
                {...props}
                autoFocus
                value={form.values.shortcut}
                onChange={(event) => form.set('shortcut', event.target.value)}
              />
            )}
          </Field>
          <Field label={t('canned.text')} error={form.errors.text}>
            {(props) => (
              <Textarea
                {...props}
                className="min-h-28"
                value={form.values.text}
                onChange={(event) => form.set('text', event.target.value)}
              />
            )}
          </Field>
          <FormError message={form.formError} />
          <div className="flex justify-end gap-2">
            <Button variant="outline" onClick={onClose}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" loading={form.submitting}>
              {t('common.save')}
            </Button>
          </div>
        </form>
      </DialogContent>
    </DialogRoot>
  );
}
