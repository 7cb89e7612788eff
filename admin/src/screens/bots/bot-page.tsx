import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams } from '@tanstack/react-router';
import { ArrowLeft, Eye, History, Pause, Play, Radio, SlidersHorizontal, Trash2, Upload } from 'lucide-react';
import { useEffect, useMemo, useState } from 'react';
import { api } from '@/api/client';
import { isApiError, unwrap } from '@/api/errors';
import { PageHeader, QueryError } from '@/components/page';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Confirm, DialogContent, DialogRoot } from '@/components/ui/dialog';
import { Field, FormError, Input } from '@/components/ui/input';
import { Skeleton } from '@/components/ui/skeleton';
import { Tabs, TabsContent, TabsList, TabsTrigger } from '@/components/ui/tabs';
import { toast } from '@/components/ui/toast';
import { useT } from '@/i18n';
import { diffJson } from '@/lib/diff';
import { useWorkspace } from '@/lib/workspace';
import { ChannelsPanel } from './channels-panel';
import { type BotConfig, ConfigEditor, validateConfig } from './config-editor';
import { PlaygroundChat } from './playground-chat';
import { VersionHistory } from './version-history';

export default function BotPage() {
  const t = useT();
  const params = useParams({ strict: false });
  const botId = 'bot' in params && typeof params.bot === 'string' ? params.bot : '';
  const { ws, can } = useWorkspace();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const bot = useQuery({
    queryKey: ['bot', ws, botId],
    queryFn: () =>
      unwrap(api.GET('/api/workspaces/{ws}/bots/{bot}', { params: { path: { ws, bot: botId } } })),
  });
  const back = (
    <Link to={`/w/${ws}/bots`} className="inline-flex items-center gap-1 hover:text-foreground">
      <ArrowLeft className="size-3.5" /> {t('nav.bots')}
    </Link>
  );
  if (bot.isPending) return <Skeleton className="h-10 w-64" />;
  if (bot.isError)
    return (
      <>
        <PageHeader title={t('nav.bots')} back={back} />
        <QueryError error={bot.error} retry={() => bot.refetch()} />
      </>
    );

  const setStatus = async (status: 'active' | 'paused') => {
    try {
      await unwrap(
        api.PATCH('/api/workspaces/{ws}/bots/{bot}', {
          params: { path: { ws, bot: botId } },
          body: { status },
        }),
      );
      await queryClient.invalidateQueries({ queryKey: ['bot', ws, botId] });
      await queryClient.invalidateQueries({ queryKey: ['bots', ws] });
      toast.success(t(status === 'paused' ? 'bot.pausedToast' : 'bot.resumedToast'));
    } catch (error) {
      toast.error(t('common.failed'), error instanceof Error ? error.message : undefined);
    }
  };

  return (
    <>
      <PageHeader
        back={back}
        title={
          <span className="inline-flex items-center gap-3">
            {bot.data.name}
            <Badge tone={bot.data.status === 'active' ? 'success' : 'warning'}>
              {t(bot.data.status === 'active' ? 'bots.active' : 'bots.paused')}
            </Badge>
          </span>
        }
        description={bot.data.description || t('bot.liveVersion', { version: bot.data.publishedVersion })}
        actions={
          can('admin') && (
            <>
              {bot.data.status === 'active' ? (
                <Confirm
                  title={t('bot.pauseTitle')}
                  description={t('bot.pauseDescription')}
                  confirmLabel={t('bot.pause')}
                  destructive={false}
                  onConfirm={() => setStatus('paused')}
                >
                  <Button variant="outline">
                    <Pause /> {t('bot.pause')}
                  </Button>
                </Confirm>
              ) : (
                <Button variant="outline" onClick={() => setStatus('active')}>
                  <Play /> {t('bot.resume')}
                </Button>
              )}
              <Confirm
                title={t('bot.deleteTitle', { name: bot.data.name })}
                description={t('bot.deleteDescription')}
                confirmLabel={t('common.delete')}
                onConfirm={async () => {
                  await unwrap(
                    api.DELETE('/api/workspaces/{ws}/bots/{bot}', { params: { path: { ws, bot: botId } } }),
                  );
                  await queryClient.invalidateQueries({ queryKey: ['bots', ws] });
                  toast.success(t('bot.deleted'));
                  await navigate({ to: `/w/${ws}/bots` });
                }}
              >
                <Button
                  variant="ghost"
                  size="icon"
                  aria-label={t('common.delete')}
                  className="text-muted-foreground hover:text-destructive"
                >
                  <Trash2 />
                </Button>
              </Confirm>
            </>
          )
        }
      />
      <Tabs defaultValue="config">
        <TabsList>
          <TabsTrigger value="config">
            <SlidersHorizontal /> {t('bot.tab.config')}
          </TabsTrigger>
          <TabsTrigger value="channels">
            <Radio /> {t('bot.tab.channels')}
          </TabsTrigger>
          <TabsTrigger value="history">
            <History /> {t('bot.tab.history')}
          </TabsTrigger>
        </TabsList>
        <TabsContent value="config">
          <ConfigTab botId={botId} />
        </TabsContent>
        <TabsContent value="channels">
          <ChannelsPanel botId={botId} />
        </TabsContent>
        <TabsContent value="history">
          <VersionHistory botId={botId} />
        </TabsContent>
      </Tabs>
    </>
  );
}

/** Draft → publish: edits stay local until saved as the draft; publishing makes the draft live. */
function ConfigTab({ botId }: { botId: string }) {
  const t = useT();
  const { ws, can } = useWorkspace();
  const queryClient = useQueryClient();
  const readOnly = !can('admin');
  const state = useQuery({
    queryKey: ['bot-config', ws, botId],
    queryFn: () =>
      unwrap(api.GET('/api/workspaces/{ws}/bots/{bot}/config', { params: { path: { ws, bot: botId } } })),
  });
  const saved = state.data ? (state.data.draft ?? state.data.published).config : null;
  const [config, setConfig] = useState<BotConfig | null>(null);
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState<'save' | 'publish' | null>(null);
  const [publishing, setPublishing] = useState(false);
  useEffect(() => {
    if (saved) setConfig(structuredClone(saved));
  }, [saved]);
  const errors = useMemo(
    () => ({ ...(config ? validateConfig(config) : {}), ...serverErrors }),
    [config, serverErrors],
  );
  const dirty = config !== null && saved !== null && diffJson(saved, config).length > 0;
  const hasDraft = Boolean(state.data?.draft);

  if (state.isPending)
    return (
      <div className="grid gap-4">
        <Skeleton className="h-40" />
        <Skeleton className="h-64" />
      </div>
    );
  if (state.isError) return <QueryError error={state.error} retry={() => state.refetch()} />;
  if (!config) return null;

  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: ['bot-config', ws, botId] });
    await queryClient.invalidateQueries({ queryKey: ['bot-versions', ws, botId] });
    await queryClient.invalidateQueries({ queryKey: ['bot', ws, botId] });
  };
  const saveDraft = async (): Promise<boolean> => {
    setFormError(null);
    setServerErrors({});
    if (Object.keys(validateConfig(config)).length > 0) {
      setFormError(t('config.fixErrors'));
      return false;
    }
    try {
      await unwrap(
        api.PUT('/api/workspaces/{ws}/bots/{bot}/config/draft', {
          params: { path: { ws, bot: botId } },
          body: { config },
        }),
      );
      return true;
    } catch (error) {
      if (isApiError(error)) {
        setServerErrors(
          Object.fromEntries(
            Object.entries(error.fieldErrors()).map(([key, value]) => [key.replace(/^config\./, ''), value]),
          ),
        );
      }
      setFormError(error instanceof Error ? error.message : String(error));
      return false;
    }
  };

  return (
    <div className="grid items-start gap-6 xl:grid-cols-[minmax(0,1fr)_380px]">
      <div className="grid min-w-0 gap-4">
        <div className="sticky top-14 z-20 -mx-1 flex flex-wrap items-center gap-3 rounded-xl border bg-card/95 px-4 py-3 shadow-xs backdrop-blur">
          <div className="flex min-w-0 flex-1 items-center gap-2 text-sm">
            {readOnly ? (
              <Badge>
                <Eye className="size-3" /> {t('config.readOnly')}
              </Badge>
            ) : dirty ? (
              <Badge tone="warning">{t('config.unsaved')}</Badge>
            ) : hasDraft ? (
              <Badge tone="primary">{t('config.draftSaved')}</Badge>
            ) : (
              <Badge tone="success">
                {t('config.upToDate', { version: state.data.published.version ?? '' })}
              </Badge>
            )}
          </div>
          {!readOnly && (
            <div className="flex flex-wrap gap-2">
              {(hasDraft || dirty) && (
                <Confirm
                  title={t('config.discardTitle')}
                  description={t('config.discardDescription')}
                  confirmLabel={t('config.discard')}
                  onConfirm={async () => {
                    if (hasDraft)
                      await unwrap(
                        api.DELETE('/api/workspaces/{ws}/bots/{bot}/config/draft', {
                          params: { path: { ws, bot: botId } },
                        }),
                      );
                    setConfig(structuredClone(state.data.published.config));
                    setServerErrors({});
                    setFormError(null);
                    await refresh();
                  }}
                >
                  <Button variant="ghost">{t('config.discard')}</Button>
                </Confirm>
              )}
              <Button
                variant="outline"
                disabled={!dirty}
                loading={busy === 'save'}
                onClick={async () => {
                  setBusy('save');
                  if (await saveDraft()) {
                    await refresh();
                    toast.success(t('config.savedToast'));
                  }
                  setBusy(null);
                }}
              >
                {t('config.saveDraft')}
              </Button>
              <Button disabled={!dirty && !hasDraft} onClick={() => setPublishing(true)}>
                <Upload /> {t('config.publish')}
              </Button>
            </div>
          )}
        </div>
        <FormError message={formError} />
        <ConfigEditor
          config={config}
          onChange={(change) => setConfig((previous) => (previous ? change(previous) : previous))}
          errors={errors}
          readOnly={readOnly}
        />
      </div>
      <div className="xl:sticky xl:top-20">
        <PlaygroundChat botId={botId} config={Object.keys(errors).length === 0 ? config : null} />
      </div>
      <PublishDialog
        open={publishing}
        onOpenChange={setPublishing}
        busy={busy === 'publish'}
        changes={diffJson(state.data.published.config, config).length}
        onPublish={async (note) => {
          setBusy('publish');
          try {
            if (dirty && !(await saveDraft())) {
              setPublishing(false);
              return;
            }
            const published = await unwrap(
              api.POST('/api/workspaces/{ws}/bots/{bot}/config/publish', {
                params: { path: { ws, bot: botId } },
                body: note ? { note } : {},
              }),
            );
            setPublishing(false);
            await refresh();
            toast.success(t('config.publishedToast', { version: published.version ?? '' }));
          } catch (error) {
            setFormError(error instanceof Error ? error.message : String(error));
            setPublishing(false);
          } finally {
            setBusy(null);
          }
        }}
      />
    </div>
  );
}

function PublishDialog({
  open,
  onOpenChange,
  onPublish,
  busy,
  changes,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  onPublish: (note: string) => Promise<void>;
  busy: boolean;
  changes: number;
}) {
  const t = useT();
  const [note, setNote] = useState('');
  return (
    <DialogRoot open={open} onOpenChange={onOpenChange}>
      <DialogContent
        title={t('config.publishTitle')}
        description={t('config.publishDescription', { count: changes })}
        footer={
          <>
            <Button variant="outline" onClick={() => onOpenChange(false)}>
              {t('common.cancel')}
            </Button>
            <Button loading={busy} onClick={() => onPublish(note.trim()).then(() => setNote(''))}>
              <Upload /> {t('config.publish')}
            </Button>
          </>
        }
      >
        <Field label={t('config.note')} hint={t('config.noteHint')}>
          {(props) => (
            <Input
              {...props}
              maxLength={500}
              value={note}
              onChange={(event) => setNote(event.target.value)}
            />
          )}
        </Field>
        <FormError message={null} />
      </DialogContent>
    </DialogRoot>
  );
}
