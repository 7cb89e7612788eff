import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  BookOpen,
  FileText,
  Globe,
  MessageCircleQuestion,
  Pencil,
  Plus,
  RefreshCw,
  Search,
  Sparkles,
  Trash2,
  Upload,
} from 'lucide-react';
import { useRef, useState } from 'react';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import { errorText, formatBytes, ProgressBar } from '@/components/ops';
import { PageHeader, QueryError } from '@/components/page';
import { Badge, type BadgeTone } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card, CardHeader } from '@/components/ui/card';
import { Confirm, DialogContent, DialogRoot } from '@/components/ui/dialog';
import { EmptyState } from '@/components/ui/empty-state';
import { Field, FormError, Input, Select, Textarea } from '@/components/ui/input';
import { Pagination, useCursorPages } from '@/components/ui/pagination';
import { TableSkeleton } from '@/components/ui/skeleton';
import { Switch } from '@/components/ui/switch';
import { Table, TBody, TD, TH, THead, TR } from '@/components/ui/table';
import { Tabs, TabsContent, TabsList, TabsTrigger } from '@/components/ui/tabs';
import { toast } from '@/components/ui/toast';
import { useFormat, useT } from '@/i18n';
import { useZodForm } from '@/lib/form';
import { uploadWithProgress } from '@/lib/upload';
import { useWorkspace } from '@/lib/workspace';
import { qaPairSchema, textDocumentSchema, urlDocumentSchema } from '@/ops-schemas';

const STATUS_TONE: Record<string, BadgeTone> = {
  queued: 'neutral',
  processing: 'primary',
  ready: 'success',
  failed: 'danger',
};
const ACCEPT =
  '.txt,.md,.markdown,.html,.htm,.pdf,.docx,text/plain,text/markdown,text/html,application/pdf,application/vnd.openxmlformats-officedocument.wordprocessingml.document';

/** What the bots know: documents (uploaded, fetched, typed), question-answer pairs, and a probe. */
export default function KnowledgePage() {
  const t = useT();
  return (
    <>
      <PageHeader title={t('nav.knowledge')} description={t('knowledge.description')} />
      <Tabs defaultValue="documents">
        <TabsList>
          <TabsTrigger value="documents">
            <FileText /> {t('knowledge.documents')}
          </TabsTrigger>
          <TabsTrigger value="qa">
            <MessageCircleQuestion /> {t('knowledge.qa')}
          </TabsTrigger>
          <TabsTrigger value="probe">
            <Sparkles /> {t('knowledge.probe')}
          </TabsTrigger>
        </TabsList>
        <TabsContent value="documents">
          <Documents />
        </TabsContent>
        <TabsContent value="qa">
          <QaPairs />
        </TabsContent>
        <TabsContent value="probe">
          <Probe />
        </TabsContent>
      </Tabs>
    </>
  );
}

interface Uploading {
  name: string;
  progress: number;
  error?: string;
}

function Documents() {
  const t = useT();
  const format = useFormat();
  const { ws, can } = useWorkspace();
  const queryClient = useQueryClient();
  const pages = useCursorPages();
  const [status, setStatus] = useState('');
  const [uploads, setUploads] = useState<Uploading[]>([]);
  const [adding, setAdding] = useState<'url' | 'text' | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const list = useQuery({
    queryKey: ['knowledge-docs', ws, status, pages.cursor],
    queryFn: () =>
      unwrap(
        api.GET('/api/workspaces/{ws}/knowledge/documents', {
          params: {
            path: { ws },
            query: { limit: 25, cursor: pages.cursor, status: (status || undefined) as 'ready' | undefined },
          },
        }),
      ),
    // Follow indexing while something is in flight.
    refetchInterval: (query) =>
      query.state.data?.items.some((doc) => doc.status === 'queued' || doc.status === 'processing')
        ? 1500
        : false,
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['knowledge-docs', ws] });
  const upload = async (files: FileList | null) => {
    for (const file of Array.from(files ?? [])) {
      const entry: Uploading = { name: file.name, progress: 0 };
      setUploads((list) => [...list, entry]);
      const update = (patch: Partial<Uploading>) =>
        setUploads((list) => list.map((item) => (item.name === file.name ? { ...item, ...patch } : item)));
      try {
        const params = new URLSearchParams({ filename: file.name, title: file.name.replace(/\.[^.]+$/, '') });
        await uploadWithProgress({
          url: `/api/workspaces/${ws}/knowledge/documents?${params}`,
          body: file,
          contentType: file.type || 'application/octet-stream',
          onProgress: (progress) => update({ progress }),
        });
        setUploads((list) => list.filter((item) => item.name !== file.name));
        await refresh();
      } catch (error) {
        update({ error: errorText(error) ?? t('common.failed') });
      }
    }
    if (fileInput.current) fileInput.current.value = '';
  };
  const items = list.data?.items ?? [];
  const actions = can('admin') && (
    <div className="flex flex-wrap gap-2">
      <Button variant="outline" size="sm" onClick={() => setAdding('url')}>
        <Globe /> {t('knowledge.addUrl')}
      </Button>
      <Button variant="outline" size="sm" onClick={() => setAdding('text')}>
        <Pencil /> {t('knowledge.addText')}
      </Button>
      <Button size="sm" onClick={() => fileInput.current?.click()}>
        <Upload /> {t('knowledge.upload')}
      </Button>
    </div>
  );
  return (
    <Card>
      <input
        ref={fileInput}
        type="file"
        multiple
        accept={ACCEPT}
        className="hidden"
        data-testid="knowledge-file"
        onChange={(event) => upload(event.target.files)}
      />
      <CardHeader
        title={t('knowledge.documents')}
        description={t('knowledge.documentsHint')}
        actions={
          <>
            <Select
              aria-label={t('knowledge.status')}
              className="h-8! w-36! text-[13px]"
              value={status}
              onChange={(event) => {
                setStatus(event.target.value);
                pages.reset();
              }}
            >
              <option value="">{t('knowledge.anyStatus')}</option>
              {(['queued', 'processing', 'ready', 'failed'] as const).map((value) => (
                <option key={value} value={value}>
                  {t(`knowledge.status.${value}`)}
                </option>
              ))}
            </Select>
            {actions}
          </>
        }
      />
      {uploads.length > 0 && (
        <ul className="grid gap-3 border-b bg-muted/30 px-5 py-3" data-testid="uploads">
          {uploads.map((item) => (
            <li key={item.name} className="grid gap-1.5 text-sm">
              <div className="flex justify-between gap-3">
                <span className="truncate">{item.name}</span>
                {item.error ? (
                  <button
                    type="button"
                    className="text-xs text-muted-foreground hover:underline"
                    onClick={() => setUploads((list) => list.filter((row) => row.name !== item.name))}
                  >
                    {t('common.close')}
                  </button>
                ) : (
                  <span className="text-xs text-muted-foreground tabular-nums">
                    {Math.round(item.progress * 100)}%
                  </span>
                )}
              </div>
              {item.error ? (
                <p className="text-[13px] text-destructive">{item.error}</p>
              ) : (
                <ProgressBar value={item.progress} label={t('knowledge.uploading', { name: item.name })} />
              )}
            </li>
          ))}
        </ul>
      )}
      {list.isPending ? (
        <TableSkeleton rows={5} />
      ) : list.isError ? (
        <QueryError error={list.error} retry={() => list.refetch()} />
      ) : items.length === 0 ? (
        <EmptyState
          icon={BookOpen}
          title={status ? t('ops.noMatches') : t('knowledge.emptyTitle')}
          description={t('knowledge.emptyDescription')}
          action={!status && actions}
        />
      ) : (
        <>
          <Table>
            <THead>
              <tr>
                <TH>{t('knowledge.title')}</TH>
                <TH>{t('knowledge.status')}</TH>
                <TH className="hidden md:table-cell">{t('knowledge.chunks')}</TH>
                <TH className="hidden lg:table-cell">{t('knowledge.size')}</TH>
                <TH className="hidden sm:table-cell">{t('common.updated')}</TH>
                <TH className="w-20">
                  <span className="sr-only">{t('common.actions')}</span>
                </TH>
              </tr>
            </THead>
            <TBody>
              {items.map((doc) => (
                <TR key={doc.id} data-testid="document-row" data-status={doc.status}>
                  <TD>
                    <div className="flex items-center gap-3">
                      <span className="flex size-8 shrink-0 items-center justify-center rounded-md bg-muted text-muted-foreground">
                        {doc.source === 'url' ? (
                          <Globe className="size-4" />
                        ) : (
                          <FileText className="size-4" />
                        )}
                      </span>
                      <div className="min-w-0">
                        <p className="max-w-80 truncate font-medium">{doc.title}</p>
                        <p className="max-w-80 truncate text-xs text-muted-foreground">
                          {doc.url ?? doc.mimeType}
                        </p>
                      </div>
                    </div>
                  </TD>
                  <TD>
                    <div className="grid w-32 gap-1">
                      <Badge tone={STATUS_TONE[doc.status]} className="justify-self-start">
                        {t(`knowledge.status.${doc.status}`)}
                      </Badge>
                      {(doc.status === 'processing' || doc.status === 'queued') && (
                        <ProgressBar value={doc.progress / 100} />
                      )}
                      {doc.status === 'failed' && doc.error && (
                        <span className="truncate text-xs text-destructive" title={doc.error}>
                          {doc.error}
                        </span>
                      )}
                    </div>
                  </TD>
                  <TD className="hidden tabular-nums md:table-cell">{doc.chunkCount}</TD>
                  <TD className="hidden text-muted-foreground lg:table-cell">{formatBytes(doc.sizeBytes)}</TD>
                  <TD className="hidden text-muted-foreground sm:table-cell">
                    {format.ago(doc.indexedAt ?? doc.updatedAt)}
                  </TD>
                  <TD>
                    {can('admin') && (
                      <div className="flex justify-end gap-1">
                        <Button
                          variant="ghost"
                          size="icon"
                          className="size-8 text-muted-foreground"
                          aria-label={t('knowledge.reindex')}
                          title={t('knowledge.reindex')}
                          disabled={doc.status === 'queued' || doc.status === 'processing'}
                          onClick={async () => {
                            try {
                              await unwrap(
                                api.POST('/api/workspaces/{ws}/knowledge/documents/{doc}/reindex', {
                                  params: { path: { ws, doc: doc.id } },
                                  body: {},
                                }),
                              );
                              await refresh();
                            } catch (error) {
                              toast.error(t('common.failed'), errorText(error));
                            }
                          }}
                        >
                          <RefreshCw />
                        </Button>
                        <Confirm
                          title={t('knowledge.deleteTitle', { name: doc.title })}
                          description={t('knowledge.deleteDescription')}
                          confirmLabel={t('common.delete')}
                          onConfirm={async () => {
                            try {
                              await unwrap(
                                api.DELETE('/api/workspaces/{ws}/knowledge/documents/{doc}', {
                                  params: { path: { ws, doc: doc.id } },
                                }),
                              );
                              await refresh();
                              toast.success(t('knowledge.deleted'));
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
                  </TD>
                </TR>
              ))}
            </TBody>
          </Table>
          <Pagination pages={pages} nextCursor={list.data.nextCursor} count={items.length} />
        </>
      )}
      <AddUrlDialog open={adding === 'url'} onClose={() => setAdding(null)} onAdded={refresh} />
      <AddTextDialog open={adding === 'text'} onClose={() => setAdding(null)} onAdded={refresh} />
    </Card>
  );
}

function AddUrlDialog({
  open,
  onClose,
  onAdded,
}: {
  open: boolean;
  onClose: () => void;
  onAdded: () => Promise<unknown>;
}) {
  const t = useT();
  const { ws } = useWorkspace();
  const form = useZodForm(urlDocumentSchema, { url: '', title: '' });
  return (
    <DialogRoot
      open={open}
      onOpenChange={(next) => {
        if (!next) {
          onClose();
          form.setValues({ url: '', title: '' });
        }
      }}
    >
      <DialogContent title={t('knowledge.addUrl')} description={t('knowledge.addUrlDescription')}>
        <form
          className="grid gap-4"
          noValidate
          onSubmit={form.handleSubmit(async (data) => {
            await unwrap(
              api.POST('/api/workspaces/{ws}/knowledge/documents/url', {
                params: { path: { ws } },
                body: { url: data.url, ...(data.title ? { title: data.title } : {}) },
              }),
            );
            await onAdded();
            onClose();
            form.setValues({ url: '', title: '' });
          })}
        >
          <Field label="URL" error={form.errors.url}>
            {(props) => (
              <Input
                {...props}
                autoFocus
                type="url"
                placeholder="https://example.com/delivery"
                value={form.values.url}
                onChange={(event) => form.set('url', event.target.value)}
              />
            )}
          </Field>
          <Field label={t('knowledge.title')} error={form.errors.title} hint={t('knowledge.titleHint')}>
            {(props) => (
              <Input
                {...props}
                value={form.values.title}
                onChange={(event) => form.set('title', event.target.value)}
              />
            )}
          </Field>
          <FormError message={form.formError} />
          <div className="flex justify-end gap-2">
            <Button variant="outline" onClick={onClose}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" loading={form.submitting}>
              {t('knowledge.add')}
            </Button>
          </div>
        </form>
      </DialogContent>
    </DialogRoot>
  );
}

function AddTextDialog({
  open,
  onClose,
  onAdded,
}: {
  open: boolean;
  onClose: () => void;
  onAdded: () => Promise<unknown>;
}) {
  const t = useT();
  const { ws } = useWorkspace();
  const form = useZodForm(textDocumentSchema, { title: '', text: '' });
  return (
    <DialogRoot
      open={open}
      onOpenChange={(next) => {
        if (!next) onClose();
      }}
    >
      <DialogContent
        title={t('knowledge.addText')}
        description={t('knowledge.addTextDescription')}
        className="sm:max-w-2xl"
      >
        <form
          className="grid gap-4"
          noValidate
          onSubmit={form.handleSubmit(async (data) => {
            await unwrap(
              api.POST('/api/workspaces/{ws}/knowledge/documents/text', {
                params: { path: { ws } },
                body: { ...data, format: 'markdown' },
              }),
            );
            await onAdded();
            onClose();
            form.setValues({ title: '', text: '' });
          })}
        >
          <Field label={t('knowledge.title')} error={form.errors.title}>
            {(props) => (
              <Input
                {...props}
                autoFocus
                value={form.values.title}
                onChange={(event) => form.set('title', event.target.value)}
              />
            )}
          </Field>
          <Field label={t('knowledge.text')} error={form.errors.text} hint={t('knowledge.markdownHint')}>
            {(props) => (
              <Textarea
                {...props}
                className="min-h-48"
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
              {t('knowledge.add')}
            </Button>
          </div>
        </form>
      </DialogContent>
    </DialogRoot>
  );
}

type QaPair = {
  id: string;
  question: string;
  answer: string;
  threshold: number;
  enabled: boolean;
  hitCount: number;
  lastHitAt: string | null;
};

function QaPairs() {
  const t = useT();
  const format = useFormat();
  const { ws, can } = useWorkspace();
  const queryClient = useQueryClient();
  const pages = useCursorPages();
  const [editing, setEditing] = useState<QaPair | 'new' | null>(null);
  const list = useQuery({
    queryKey: ['qa-pairs', ws, pages.cursor],
    queryFn: () =>
      unwrap(
        api.GET('/api/workspaces/{ws}/knowledge/qa-pairs', {
          params: { path: { ws }, query: { limit: 25, cursor: pages.cursor } },
        }),
      ),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['qa-pairs', ws] });
  const create = can('admin') && (
    <Button size="sm" onClick={() => setEditing('new')}>
      <Plus /> {t('knowledge.addQa')}
    </Button>
  );
  return (
    <Card>
      <CardHeader title={t('knowledge.qa')} description={t('knowledge.qaHint')} actions={create} />
      {list.isPending ? (
        <TableSkeleton rows={5} />
      ) : list.isError ? (
        <QueryError error={list.error} retry={() => list.refetch()} />
      ) : list.data.items.length === 0 ? (
        <EmptyState
          icon={MessageCircleQuestion}
          title={t('knowledge.qaEmptyTitle')}
          description={t('knowledge.qaEmptyDescription')}
          action={create}
        />
      ) : (
        <>
          <ul className="divide-y">
            {list.data.items.map((pair) => (
              <li key={pair.id} className="flex flex-wrap items-start gap-4 px-5 py-4">
                <div className="min-w-0 flex-1">
                  <p className="font-medium">{pair.question}</p>
                  <p className="mt-1 line-clamp-2 text-sm text-muted-foreground">{pair.answer}</p>
                  <p className="mt-2 flex flex-wrap gap-2 text-xs text-muted-foreground">
                    <Badge tone={pair.enabled ? 'success' : 'neutral'}>
                      {pair.enabled ? t('knowledge.enabled') : t('knowledge.disabled')}
                    </Badge>
                    <span>{t('knowledge.threshold', { n: pair.threshold.toFixed(2) })}</span>
                    <span>· {t('knowledge.hits', { n: pair.hitCount })}</span>
                    {pair.lastHitAt && <span>· {format.ago(pair.lastHitAt)}</span>}
                  </p>
                </div>
                {can('admin') && (
                  <div className="flex gap-1">
                    <Button
                      variant="ghost"
                      size="icon"
                      className="size-8 text-muted-foreground"
                      aria-label={t('knowledge.edit')}
                      onClick={() => setEditing(pair)}
                    >
                      <Pencil />
                    </Button>
                    <Confirm
                      title={t('knowledge.deleteQaTitle')}
                      description={t('knowledge.deleteQaDescription', { question: pair.question })}
                      confirmLabel={t('common.delete')}
                      onConfirm={async () => {
                        try {
                          await unwrap(
                            api.DELETE('/api/workspaces/{ws}/knowledge/qa-pairs/{pair}', {
                              params: { path: { ws, pair: pair.id } },
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
          <Pagination pages={pages} nextCursor={list.data.nextCursor} count={list.data.items.length} />
        </>
      )}
      {editing && (
        <QaDialog
          pair={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={refresh}
        />
      )}
    </Card>
  );
}

function QaDialog({
  pair,
  onClose,
  onSaved,
}: {
  pair: QaPair | null;
  onClose: () => void;
  onSaved: () => Promise<unknown>;
}) {
  const t = useT();
  const { ws } = useWorkspace();
  const form = useZodForm(qaPairSchema, {
    question: pair?.question ?? '',
    answer: pair?.answer ?? '',
    threshold: String(pair?.threshold ?? 0.85),
    enabled: pair?.enabled ?? true,
  });
  return (
    <DialogRoot open onOpenChange={(next) => !next && onClose()}>
      <DialogContent
        title={pair ? t('knowledge.editQa') : t('knowledge.addQa')}
        description={t('knowledge.qaDialogHint')}
        className="sm:max-w-xl"
      >
        <form
          className="grid gap-4"
          noValidate
          onSubmit={form.handleSubmit(async (data) => {
            if (pair)
              await unwrap(
                api.PATCH('/api/workspaces/{ws}/knowledge/qa-pairs/{pair}', {
                  params: { path: { ws, pair: pair.id } },
                  body: data,
                }),
              );
            else
              await unwrap(
                api.POST('/api/workspaces/{ws}/knowledge/qa-pairs', { params: { path: { ws } }, body: data }),
              );
            await onSaved();
            onClose();
          })}
        >
          <Field label={t('knowledge.question')} error={form.errors.question}>
            {(props) => (
              <Input
                {...props}
                autoFocus
                value={form.values.question}
                onChange={(event) => form.set('question', event.target.value)}
              />
            )}
          </Field>
          <Field label={t('knowledge.answer')} error={form.errors.answer}>
            {(props) => (
              <Textarea
                {...props}
                className="min-h-32"
                value={form.values.answer}
                onChange={(event) => form.set('answer', event.target.value)}
              />
            )}
          </Field>
          <div className="grid gap-4 sm:grid-cols-2">
            <Field
              label={t('knowledge.thresholdLabel')}
              error={form.errors.threshold}
              hint={t('knowledge.thresholdHint')}
            >
              {(props) => (
                <Input
                  {...props}
                  inputMode="decimal"
                  value={form.values.threshold}
                  onChange={(event) => form.set('threshold', event.target.value)}
                />
              )}
            </Field>
            <div className="flex items-center gap-3 pt-6">
              <Switch
                id="qa-enabled"
                checked={form.values.enabled}
                onCheckedChange={(checked) => form.set('enabled', checked)}
              />
              <label htmlFor="qa-enabled" className="text-sm font-medium">
                {t('knowledge.enabled')}
              </label>
            </div>
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

function Probe() {
  const t = useT();
  const { ws } = useWorkspace();
  const [text, setText] = useState('');
  const [question, setQuestion] = useState('');
  const result = useQuery({
    queryKey: ['knowledge-search', ws, question],
    enabled: question !== '',
    queryFn: () =>
      unwrap(
        api.GET('/api/workspaces/{ws}/knowledge/search', {
          params: { path: { ws }, query: { q: question, limit: 8 } },
        }),
      ),
  });
  return (
    <Card>
      <CardHeader title={t('knowledge.probe')} description={t('knowledge.probeHint')} />
      <div className="grid gap-5 p-5">
        <form
          className="flex gap-2"
          onSubmit={(event) => {
            event.preventDefault();
            setQuestion(text.trim());
          }}
        >
          <div className="relative flex-1">
            <Search className="pointer-events-none absolute top-2.5 left-2.5 size-4 text-muted-foreground" />
            <Input
              aria-label={t('knowledge.question')}
              className="pl-8"
              placeholder={t('knowledge.probePlaceholder')}
              value={text}
              onChange={(event) => setText(event.target.value)}
            />
          </div>
          <Button type="submit" loading={result.isFetching} disabled={!text.trim()}>
            {t('knowledge.ask')}
          </Button>
        </form>
        {question === '' ? (
          <EmptyState
            className="py-8"
            icon={Sparkles}
            title={t('knowledge.probeEmptyTitle')}
            description={t('knowledge.probeEmptyDescription')}
          />
        ) : result.isError ? (
          <QueryError error={result.error} retry={() => result.refetch()} />
        ) : result.data ? (
          <div className="grid gap-4" data-testid="probe-results">
            {result.data.qa && (
              <div className="rounded-lg border border-success/30 bg-success/8 p-4">
                <p className="flex items-center justify-between gap-2 text-xs font-medium text-success">
                  {t('knowledge.qaMatch')}{' '}
                  <span className="tabular-nums">{result.data.qa.score.toFixed(2)}</span>
                </p>
                <p className="mt-1 font-medium">{result.data.qa.pair.question}</p>
                <p className="mt-1 text-sm">{result.data.qa.pair.answer}</p>
              </div>
            )}
            <p className="text-xs text-muted-foreground">{t('knowledge.mode', { mode: result.data.mode })}</p>
            {result.data.hits.length === 0 ? (
              <p className="text-sm text-muted-foreground">{t('knowledge.noHits')}</p>
            ) : (
              <ol className="grid gap-3">
                {result.data.hits.map((hit, index) => (
                  <li key={hit.chunkId} className="rounded-lg border p-4">
                    <p className="flex items-center justify-between gap-2 text-xs text-muted-foreground">
                      <span className="truncate">
                        <span className="font-semibold text-foreground">#{index + 1}</span> · {hit.title}
                      </span>
                      <span className="tabular-nums">{hit.score.toFixed(3)}</span>
                    </p>
                    <p className="mt-2 line-clamp-5 text-sm whitespace-pre-wrap">{hit.text}</p>
                  </li>
                ))}
              </ol>
            )}
          </div>
        ) : null}
      </div>
    </Card>
  );
}
