import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Plug, Radio, Send, Trash2 } from 'lucide-react';
import { useState } from 'react';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import { QueryError } from '@/components/page';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card, CardHeader } from '@/components/ui/card';
import { Confirm, DialogContent, DialogRoot } from '@/components/ui/dialog';
import { EmptyState } from '@/components/ui/empty-state';
import { Field, FormError, Input, Select } from '@/components/ui/input';
import { TableSkeleton } from '@/components/ui/skeleton';
import { toast } from '@/components/ui/toast';
import { useFormat, useT } from '@/i18n';
import { useZodForm } from '@/lib/form';
import { useWorkspace } from '@/lib/workspace';
import { telegramChannelSchema } from '@/schemas';

/** The bot's messenger channels: connect a Telegram token, switch webhook/polling, disconnect. */
export function ChannelsPanel({ botId }: { botId: string }) {
  const t = useT();
  const format = useFormat();
  const { ws, can } = useWorkspace();
  const queryClient = useQueryClient();
  const [connecting, setConnecting] = useState(false);
  const key = ['channels', ws, botId];
  const channels = useQuery({
    queryKey: key,
    queryFn: () =>
      unwrap(api.GET('/api/workspaces/{ws}/bots/{bot}/channels', { params: { path: { ws, bot: botId } } })),
  });
  const path = (channelId: string) => ({ params: { path: { ws, bot: botId, channelId } } });
  const patch = async (
    channelId: string,
    body: { mode?: 'webhook' | 'polling'; status?: 'active' | 'disabled' },
  ) => {
    try {
      await unwrap(
        api.PATCH('/api/workspaces/{ws}/bots/{bot}/channels/{channelId}', { ...path(channelId), body }),
      );
      await queryClient.invalidateQueries({ queryKey: key });
      toast.success(t('channels.updated'));
    } catch (error) {
      toast.error(t('channels.updateFailed'), error instanceof Error ? error.message : undefined);
    }
  };
  const connect = can('admin') && (
    <Button onClick={() => setConnecting(true)}>
      <Plug /> {t('channels.connectTelegram')}
    </Button>
  );
  return (
    <Card>
      <CardHeader
        title={t('channels.title')}
        description={t('channels.description')}
        actions={channels.data?.items.length ? connect : undefined}
      />
      {channels.isPending ? (
        <TableSkeleton rows={2} />
      ) : channels.isError ? (
        <QueryError error={channels.error} retry={() => channels.refetch()} />
      ) : channels.data.items.length === 0 ? (
        <EmptyState
          icon={Radio}
          title={t('channels.emptyTitle')}
          description={t('channels.emptyDescription')}
          action={connect}
        />
      ) : (
        <ul className="divide-y">
          {channels.data.items.map((channel) => (
            <li key={channel.id} className="flex flex-wrap items-center gap-4 px-5 py-4">
              <span className="flex size-10 items-center justify-center rounded-full bg-[#229ED9]/12 text-[#229ED9]">
                <Send className="size-4.5" />
              </span>
              <div className="min-w-0 flex-1">
                <p className="flex flex-wrap items-center gap-2 font-medium">
                  {channel.displayName ?? 'Telegram'}
                  {channel.username && (
                    <span className="text-sm font-normal text-muted-foreground">@{channel.username}</span>
                  )}
                  <Badge
                    tone={
                      channel.status === 'active'
                        ? 'success'
                        : channel.status === 'error'
                          ? 'danger'
                          : 'neutral'
                    }
                  >
                    {t(`channels.status.${channel.status}`)}
                  </Badge>
                </p>
                <p className="mt-0.5 text-xs text-muted-foreground">
                  {channel.mode === 'webhook'
                    ? t('channels.webhookAt', { url: channel.webhookUrl ?? '—' })
                    : t('channels.pollingHint')}{' '}
                  · {t('channels.connected', { date: format.date(channel.createdAt) })}
                </p>
                {channel.lastError && (
                  <p className="mt-1 text-xs text-destructive">
                    {channel.lastError} ({format.ago(channel.lastErrorAt)})
                  </p>
                )}
              </div>
              {can('admin') && (
                <div className="flex flex-wrap items-center gap-2">
                  <Select
                    aria-label={t('channels.mode')}
                    className="h-8 w-32 text-[13px]"
                    value={channel.mode}
                    onChange={(event) =>
                      patch(channel.id, { mode: event.target.value === 'webhook' ? 'webhook' : 'polling' })
                    }
                  >
                    <option value="webhook">{t('channels.mode.webhook')}</option>
                    <option value="polling">{t('channels.mode.polling')}</option>
                  </Select>
                  <Button
                    variant="outline"
                    size="sm"
                    onClick={() =>
                      patch(channel.id, { status: channel.status === 'disabled' ? 'active' : 'disabled' })
                    }
                  >
                    {channel.status === 'disabled' ? t('channels.resume') : t('channels.disable')}
                  </Button>
                  <Confirm
                    title={t('channels.disconnectTitle')}
                    description={t('channels.disconnectDescription')}
                    confirmLabel={t('channels.disconnect')}
                    onConfirm={async () => {
                      await unwrap(
                        api.DELETE('/api/workspaces/{ws}/bots/{bot}/channels/{channelId}', path(channel.id)),
                      );
                      await queryClient.invalidateQueries({ queryKey: key });
                      toast.success(t('channels.disconnected'));
                    }}
                  >
                    <Button
                      variant="ghost"
                      size="icon"
                      className="size-8 text-muted-foreground hover:text-destructive"
                      aria-label={t('channels.disconnect')}
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
      <ConnectTelegramDialog botId={botId} open={connecting} onOpenChange={setConnecting} />
    </Card>
  );
}

function ConnectTelegramDialog({
  botId,
  open,
  onOpenChange,
}: {
  botId: string;
  open: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  const t = useT();
  const { ws } = useWorkspace();
  const queryClient = useQueryClient();
  const form = useZodForm(telegramChannelSchema, { token: '', mode: 'polling' });
  return (
    <DialogRoot open={open} onOpenChange={onOpenChange}>
      <DialogContent title={t('channels.connectTelegram')} description={t('channels.connectDescription')}>
        <form
          className="grid gap-4"
          noValidate
          onSubmit={form.handleSubmit(async (data) => {
            await unwrap(
              api.POST('/api/workspaces/{ws}/bots/{bot}/channels', {
                params: { path: { ws, bot: botId } },
                body: { type: 'telegram', ...data },
              }),
            );
            await queryClient.invalidateQueries({ queryKey: ['channels', ws, botId] });
            onOpenChange(false);
            form.setValues({ token: '', mode: 'polling' });
            toast.success(t('channels.connectedToast'));
          })}
        >
          <Field label={t('channels.token')} hint={t('channels.tokenHint')} error={form.errors.token}>
            {(props) => (
              <Input
                {...props}
                autoComplete="off"
                spellCheck={false}
                className="font-mono text-[13px]"
                placeholder="123456789:AAE…"
                value={form.values.token}
                onChange={(event) => form.set('token', event.target.value)}
              />
            )}
          </Field>
          <Field
            label={t('channels.mode')}
            hint={form.values.mode === 'webhook' ? t('channels.webhookHint') : t('channels.pollingHint')}
            error={form.errors.mode}
          >
            {(props) => (
              <Select
                {...props}
                value={form.values.mode}
                onChange={(event) =>
                  form.set('mode', event.target.value === 'webhook' ? 'webhook' : 'polling')
                }
              >
                <option value="polling">{t('channels.mode.polling')}</option>
                <option value="webhook">{t('channels.mode.webhook')}</option>
              </Select>
            )}
          </Field>
          <FormError message={form.formError} />
          <div className="flex justify-end gap-2">
            <Button variant="outline" onClick={() => onOpenChange(false)}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" loading={form.submitting}>
              {t('channels.connect')}
            </Button>
          </div>
        </form>
      </DialogContent>
    </DialogRoot>
  );
}
