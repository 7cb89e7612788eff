import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  BellRing,
  FileUp,
  ImagePlus,
  Package,
  Pencil,
  Plus,
  Search,
  ShoppingBag,
  Trash2,
} from 'lucide-react';
import { useRef, useState } from 'react';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import { contactName, errorText, ProgressBar } from '@/components/ops';
import { PageHeader, QueryError } from '@/components/page';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { Confirm, DialogContent, DialogRoot } from '@/components/ui/dialog';
import { EmptyState } from '@/components/ui/empty-state';
import { Field, FormError, Input, Label, Select, Textarea } from '@/components/ui/input';
import { Pagination, useCursorPages } from '@/components/ui/pagination';
import { TableSkeleton } from '@/components/ui/skeleton';
import { Switch } from '@/components/ui/switch';
import { Table, TBody, TD, TH, THead, TR } from '@/components/ui/table';
import { Tabs, TabsContent, TabsList, TabsTrigger } from '@/components/ui/tabs';
import { toast } from '@/components/ui/toast';
import { useFormat, useI18n, useT } from '@/i18n';
import { useZodForm } from '@/lib/form';
import { uploadWithProgress } from '@/lib/upload';
import { useWorkspace } from '@/lib/workspace';
import { productSchema } from '@/ops-schemas';

interface Filters {
  q: string;
  category: string;
  min: string;
  max: string;
  available: string;
}
const EMPTY: Filters = { q: '', category: '', min: '', max: '', available: '' };

type Product = {
  id: string;
  sku: string;
  name: string;
  description: string | null;
  price: number;
  currency: string;
  category: string | null;
  imageUrl: string | null;
  available: boolean;
};

export function useMoney() {
  const { language } = useI18n();
  return (value: number, currency: string) => {
    try {
      return new Intl.NumberFormat(language === 'ru' ? 'ru-RU' : 'en-US', {
        style: 'currency',
        currency,
        maximumFractionDigits: 2,
      }).format(value);
    } catch {
      return `${value} ${currency}`;
    }
  };
}

/** The catalog the bots sell from: search, filters, edit with a photo, CSV import, price alerts. */
export default function ProductsPage() {
  const t = useT();
  const money = useMoney();
  const { ws, can } = useWorkspace();
  const pages = useCursorPages();
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [editing, setEditing] = useState<Product | 'new' | null>(null);
  const [importing, setImporting] = useState(false);
  const query = {
    limit: 25,
    cursor: pages.cursor,
    category: filters.category || undefined,
    price_min: filters.min ? Number(filters.min) : undefined,
    price_max: filters.max ? Number(filters.max) : undefined,
    available: filters.available === 'true' || filters.available === 'false' ? filters.available : undefined,
  } as const;
  const list = useQuery({
    queryKey: ['products', ws, filters, pages.cursor],
    queryFn: () =>
      filters.q
        ? unwrap(
            api.GET('/api/workspaces/{ws}/products/search', {
              params: { path: { ws }, query: { ...query, q: filters.q } },
            }),
          )
        : unwrap(api.GET('/api/workspaces/{ws}/products', { params: { path: { ws }, query } })),
  });
  const apply = (next: Filters) => {
    setFilters(next);
    pages.reset();
  };
  const filtered = JSON.stringify(filters) !== JSON.stringify(EMPTY);
  const actions = can('admin') && (
    <>
      <Button variant="outline" onClick={() => setImporting(true)}>
        <FileUp /> {t('products.import')}
      </Button>
      <Button onClick={() => setEditing('new')}>
        <Plus /> {t('products.create')}
      </Button>
    </>
  );
  return (
    <>
      <PageHeader title={t('nav.products')} description={t('products.description')} actions={actions} />
      <Card className="mb-4 p-4">
        <form
          className="grid grid-cols-2 items-end gap-3 lg:grid-cols-[2fr_1fr_0.7fr_0.7fr_1fr_auto]"
          onSubmit={(event) => {
            event.preventDefault();
            apply({ ...draft, q: draft.q.trim(), category: draft.category.trim() });
          }}
        >
          <div className="col-span-2 grid gap-1.5 lg:col-span-1">
            <Label htmlFor="p-q">{t('ops.search')}</Label>
            <div className="relative">
              <Search className="pointer-events-none absolute top-2.5 left-2.5 size-4 text-muted-foreground" />
              <Input
                id="p-q"
                className="pl-8"
                placeholder={t('products.searchPlaceholder')}
                value={draft.q}
                onChange={(event) => setDraft({ ...draft, q: event.target.value })}
              />
            </div>
          </div>
          <div className="col-span-2 grid gap-1.5 sm:col-span-1">
            <Label htmlFor="p-cat">{t('products.category')}</Label>
            <Input
              id="p-cat"
              value={draft.category}
              onChange={(event) => setDraft({ ...draft, category: event.target.value })}
            />
          </div>
          <div className="grid gap-1.5">
            <Label htmlFor="p-min">{t('products.priceFrom')}</Label>
            <Input
              id="p-min"
              inputMode="decimal"
              value={draft.min}
              onChange={(event) => setDraft({ ...draft, min: event.target.value.replace(/[^\d.]/g, '') })}
            />
          </div>
          <div className="grid gap-1.5">
            <Label htmlFor="p-max">{t('products.priceTo')}</Label>
            <Input
              id="p-max"
              inputMode="decimal"
              value={draft.max}
              onChange={(event) => setDraft({ ...draft, max: event.target.value.replace(/[^\d.]/g, '') })}
            />
          </div>
          <div className="grid gap-1.5">
            <Label htmlFor="p-av">{t('products.availability')}</Label>
            <Select
              id="p-av"
              value={draft.available}
              onChange={(event) => {
                const next = { ...draft, available: event.target.value };
                setDraft(next);
                apply(next);
              }}
            >
              <option value="">{t('products.any')}</option>
              <option value="true">{t('products.inStock')}</option>
              <option value="false">{t('products.outOfStock')}</option>
            </Select>
          </div>
          <div className="flex gap-2">
            <Button type="submit">{t('ops.apply')}</Button>
            {filtered && (
              <Button
                variant="ghost"
                onClick={() => {
                  setDraft(EMPTY);
                  apply(EMPTY);
                }}
              >
                {t('ops.clear')}
              </Button>
            )}
          </div>
        </form>
      </Card>
      <Card>
        {list.isPending ? (
          <TableSkeleton rows={8} columns={5} />
        ) : list.isError ? (
          <QueryError error={list.error} retry={() => list.refetch()} />
        ) : list.data.items.length === 0 ? (
          <EmptyState
            icon={ShoppingBag}
            title={filtered ? t('ops.noMatches') : t('products.emptyTitle')}
            description={filtered ? t('ops.noMatchesDescription') : t('products.emptyDescription')}
            action={!filtered && actions && <div className="flex gap-2">{actions}</div>}
          />
        ) : (
          <>
            <Table>
              <THead>
                <tr>
                  <TH>{t('products.product')}</TH>
                  <TH className="hidden md:table-cell">{t('products.category')}</TH>
                  <TH className="text-right">{t('products.price')}</TH>
                  <TH className="hidden sm:table-cell">{t('products.availability')}</TH>
                  <TH className="hidden w-10 sm:table-cell">
                    <span className="sr-only">{t('common.actions')}</span>
                  </TH>
                </tr>
              </THead>
              <TBody>
                {list.data.items.map((product) => (
                  <TR key={product.id} className="cursor-pointer" onClick={() => setEditing(product)}>
                    <TD>
                      <div className="flex items-center gap-3">
                        <Thumb url={product.imageUrl} />
                        <div className="min-w-0">
                          <p className="max-w-40 truncate font-medium sm:max-w-72">{product.name}</p>
                          <p className="font-mono text-xs text-muted-foreground">{product.sku}</p>
                        </div>
                      </div>
                    </TD>
                    <TD className="hidden text-muted-foreground md:table-cell">{product.category ?? '—'}</TD>
                    <TD className="text-right font-medium tabular-nums">
                      {money(product.price, product.currency)}
                    </TD>
                    <TD className="hidden sm:table-cell">
                      <Badge tone={product.available ? 'success' : 'neutral'}>
                        {product.available ? t('products.inStock') : t('products.outOfStock')}
                      </Badge>
                    </TD>
                    <TD className="hidden sm:table-cell">
                      <Pencil className="size-4 text-muted-foreground" aria-hidden="true" />
                    </TD>
                  </TR>
                ))}
              </TBody>
            </Table>
            <Pagination pages={pages} nextCursor={list.data.nextCursor} count={list.data.items.length} />
          </>
        )}
      </Card>
      {editing && (
        <ProductDialog product={editing === 'new' ? null : editing} onClose={() => setEditing(null)} />
      )}
      <ImportDialog open={importing} onOpenChange={setImporting} />
    </>
  );
}

function Thumb({ url, className }: { url: string | null; className?: string }) {
  return (
    <span
      className={`flex size-10 shrink-0 items-center justify-center overflow-hidden rounded-md bg-muted text-muted-foreground ring-1 ring-border ${className ?? ''}`}
    >
      {url ? (
        <img src={url} alt="" className="size-full object-cover" loading="lazy" />
      ) : (
        <Package className="size-4" aria-hidden="true" />
      )}
    </span>
  );
}

function ProductDialog({ product, onClose }: { product: Product | null; onClose: () => void }) {
  const t = useT();
  const { can } = useWorkspace();
  return (
    <DialogRoot open onOpenChange={(next) => !next && onClose()}>
      <DialogContent
        title={product ? product.name : t('products.create')}
        description={product ? product.sku : t('products.createDescription')}
        className="sm:max-w-2xl"
      >
        {product ? (
          <Tabs defaultValue="details">
            <TabsList>
              <TabsTrigger value="details">{t('products.details')}</TabsTrigger>
              <TabsTrigger value="alerts">
                <BellRing /> {t('products.alerts')}
              </TabsTrigger>
              <TabsTrigger value="history">{t('products.history')}</TabsTrigger>
            </TabsList>
            <TabsContent value="details" className="pt-4">
              {can('admin') ? (
                <ProductForm product={product} onDone={onClose} />
              ) : (
                <ReadOnly product={product} />
              )}
            </TabsContent>
            <TabsContent value="alerts" className="pt-4">
              <PriceAlerts productId={product.id} />
            </TabsContent>
            <TabsContent value="history" className="pt-4">
              <PriceHistory productId={product.id} />
            </TabsContent>
          </Tabs>
        ) : (
          <ProductForm product={null} onDone={onClose} />
        )}
      </DialogContent>
    </DialogRoot>
  );
}

function ReadOnly({ product }: { product: Product }) {
  const money = useMoney();
  return (
    <div className="flex gap-4">
      <Thumb url={product.imageUrl} className="size-24" />
      <div className="grid gap-1 text-sm">
        <p className="text-lg font-semibold">{money(product.price, product.currency)}</p>
        <p className="text-muted-foreground">{product.category}</p>
        <p className="whitespace-pre-wrap">{product.description}</p>
      </div>
    </div>
  );
}

function ProductForm({ product, onDone }: { product: Product | null; onDone: () => void }) {
  const t = useT();
  const { ws, workspace } = useWorkspace();
  const queryClient = useQueryClient();
  const [image, setImage] = useState<File | null>(null);
  const [preview, setPreview] = useState<string | null>(product?.imageUrl ?? null);
  const [uploadProgress, setUploadProgress] = useState<number | null>(null);
  const imageInput = useRef<HTMLInputElement>(null);
  const defaultCurrency = (workspace as { currency?: string } | undefined)?.currency ?? 'RUB';
  const form = useZodForm(productSchema, {
    sku: product?.sku ?? '',
    name: product?.name ?? '',
    description: product?.description ?? '',
    price: product ? String(product.price) : '',
    currency: product?.currency ?? defaultCurrency,
    category: product?.category ?? '',
    available: product?.available ?? true,
  });
  return (
    <form
      className="grid gap-4"
      noValidate
      onSubmit={form.handleSubmit(async (data) => {
        const saved = product
          ? await unwrap(
              api.PATCH('/api/workspaces/{ws}/products/{productId}', {
                params: { path: { ws, productId: product.id } },
                body: data,
              }),
            )
          : await unwrap(api.POST('/api/workspaces/{ws}/products', { params: { path: { ws } }, body: data }));
        if (image) {
          setUploadProgress(0);
          try {
            await uploadWithProgress({
              method: 'PUT',
              url: `/api/workspaces/${ws}/products/${saved.id}/image`,
              body: image,
              contentType: image.type,
              onProgress: setUploadProgress,
            });
          } finally {
            setUploadProgress(null);
          }
        }
        await queryClient.invalidateQueries({ queryKey: ['products', ws] });
        toast.success(product ? t('products.saved') : t('products.created'));
        onDone();
      })}
    >
      <div className="flex items-center gap-4">
        <button
          type="button"
          onClick={() => imageInput.current?.click()}
          className="group relative flex size-24 shrink-0 items-center justify-center overflow-hidden rounded-lg border border-dashed bg-muted/50 text-muted-foreground hover:border-primary hover:text-primary"
          aria-label={t('products.image')}
        >
          {preview ? (
            <img src={preview} alt="" className="size-full object-cover" />
          ) : (
            <ImagePlus className="size-6" />
          )}
        </button>
        <div className="grid gap-1 text-sm">
          <span className="font-medium">{t('products.image')}</span>
          <span className="text-muted-foreground">{t('products.imageHint')}</span>
          {uploadProgress !== null && <ProgressBar value={uploadProgress} className="w-48" />}
        </div>
        <input
          ref={imageInput}
          type="file"
          accept="image/png,image/jpeg,image/webp"
          className="hidden"
          onChange={(event) => {
            const file = event.target.files?.[0];
            if (!file) return;
            setImage(file);
            setPreview(URL.createObjectURL(file));
          }}
        />
      </div>
      <div className="grid gap-4 sm:grid-cols-[1fr_2fr]">
        <Field label="SKU" error={form.errors.sku}>
          {(props) => (
            <Input
              {...props}
              value={form.values.sku}
              onChange={(event) => form.set('sku', event.target.value)}
            />
          )}
        </Field>
        <Field label={t('field.name')} error={form.errors.name}>
          {(props) => (
            <Input
              {...props}
              value={form.values.name}
              onChange={(event) => form.set('name', event.target.value)}
            />
          )}
        </Field>
      </div>
      <div className="grid gap-4 sm:grid-cols-3">
        <Field label={t('products.price')} error={form.errors.price}>
          {(props) => (
            <Input
              {...props}
              inputMode="decimal"
              value={form.values.price}
              onChange={(event) => form.set('price', event.target.value)}
            />
          )}
        </Field>
        <Field label={t('products.currency')} error={form.errors.currency}>
          {(props) => (
            <Input
              {...props}
              maxLength={3}
              value={form.values.currency}
              onChange={(event) => form.set('currency', event.target.value.toUpperCase())}
            />
          )}
        </Field>
        <Field label={t('products.category')} error={form.errors.category}>
          {(props) => (
            <Input
              {...props}
              value={form.values.category}
              onChange={(event) => form.set('category', event.target.value)}
            />
          )}
        </Field>
      </div>
      <Field label={t('field.description')} error={form.errors.description}>
        {(props) => (
          <Textarea
            {...props}
            value={form.values.description}
            onChange={(event) => form.set('description', event.target.value)}
          />
        )}
      </Field>
      <div className="flex items-center gap-3">
        <Switch
          id="p-available"
          checked={form.values.available}
          onCheckedChange={(checked) => form.set('available', checked)}
        />
        <label htmlFor="p-available" className="text-sm font-medium">
          {t('products.inStock')}
        </label>
      </div>
      <FormError message={form.formError} />
      <div className="flex flex-wrap justify-between gap-2">
        {product ? <DeleteProduct product={product} onDeleted={onDone} /> : <span />}
        <div className="flex gap-2">
          <Button variant="outline" onClick={onDone}>
            {t('common.cancel')}
          </Button>
          <Button type="submit" loading={form.submitting}>
            {product ? t('common.save') : t('common.create')}
          </Button>
        </div>
      </div>
    </form>
  );
}

function DeleteProduct({ product, onDeleted }: { product: Product; onDeleted: () => void }) {
  const t = useT();
  const { ws } = useWorkspace();
  const queryClient = useQueryClient();
  return (
    <Confirm
      title={t('products.deleteTitle', { name: product.name })}
      description={t('products.deleteDescription')}
      confirmLabel={t('common.delete')}
      onConfirm={async () => {
        try {
          await unwrap(
            api.DELETE('/api/workspaces/{ws}/products/{productId}', {
              params: { path: { ws, productId: product.id } },
            }),
          );
          await queryClient.invalidateQueries({ queryKey: ['products', ws] });
          toast.success(t('products.deleted'));
          onDeleted();
        } catch (error) {
          toast.error(t('common.failed'), errorText(error));
        }
      }}
    >
      <Button variant="ghost" className="text-destructive! hover:bg-destructive/10">
        <Trash2 /> {t('common.delete')}
      </Button>
    </Confirm>
  );
}

function PriceAlerts({ productId }: { productId: string }) {
  const t = useT();
  const format = useFormat();
  const money = useMoney();
  const { ws, can } = useWorkspace();
  const queryClient = useQueryClient();
  const pages = useCursorPages();
  const alerts = useQuery({
    queryKey: ['price-alerts', ws, productId, pages.cursor],
    queryFn: () =>
      unwrap(
        api.GET('/api/workspaces/{ws}/price-alerts', {
          params: { path: { ws }, query: { productId, limit: 20, cursor: pages.cursor } },
        }),
      ),
  });
  if (alerts.isPending) return <TableSkeleton rows={3} columns={3} />;
  if (alerts.isError) return <QueryError error={alerts.error} retry={() => alerts.refetch()} />;
  if (alerts.data.items.length === 0)
    return (
      <EmptyState
        className="py-8"
        icon={BellRing}
        title={t('products.noAlerts')}
        description={t('products.noAlertsDescription')}
      />
    );
  return (
    <div className="rounded-lg border">
      <ul className="divide-y">
        {alerts.data.items.map((alert) => (
          <li key={alert.id} className="flex flex-wrap items-center gap-3 px-4 py-2.5 text-sm">
            <span className="min-w-0 flex-1 truncate">{contactName(alert.contact)}</span>
            <span className="tabular-nums">≤ {money(alert.targetPrice, alert.product.currency)}</span>
            <Badge
              tone={alert.status === 'active' ? 'primary' : alert.status === 'fired' ? 'success' : 'neutral'}
            >
              {t(`products.alert.${alert.status}`)}
            </Badge>
            <span className="text-xs text-muted-foreground">{format.date(alert.createdAt)}</span>
            {alert.status === 'active' && can('operator') && (
              <Confirm
                title={t('products.cancelAlertTitle')}
                description={t('products.cancelAlertDescription')}
                confirmLabel={t('products.cancelAlert')}
                onConfirm={async () => {
                  try {
                    await unwrap(
                      api.DELETE('/api/workspaces/{ws}/price-alerts/{alertId}', {
                        params: { path: { ws, alertId: alert.id } },
                      }),
                    );
                    await queryClient.invalidateQueries({ queryKey: ['price-alerts', ws, productId] });
                  } catch (error) {
                    toast.error(t('common.failed'), errorText(error));
                  }
                }}
              >
                <Button variant="ghost" size="sm">
                  {t('products.cancelAlert')}
                </Button>
              </Confirm>
            )}
          </li>
        ))}
      </ul>
      <Pagination pages={pages} nextCursor={alerts.data.nextCursor} />
    </div>
  );
}

function PriceHistory({ productId }: { productId: string }) {
  const t = useT();
  const format = useFormat();
  const money = useMoney();
  const { ws } = useWorkspace();
  const history = useQuery({
    queryKey: ['price-history', ws, productId],
    queryFn: () =>
      unwrap(
        api.GET('/api/workspaces/{ws}/products/{productId}/price-history', {
          params: { path: { ws, productId }, query: { limit: 50 } },
        }),
      ),
  });
  if (history.isPending) return <TableSkeleton rows={3} columns={3} />;
  if (history.isError) return <QueryError error={history.error} retry={() => history.refetch()} />;
  if (history.data.items.length === 0)
    return <p className="text-sm text-muted-foreground">{t('products.noHistory')}</p>;
  return (
    <ul className="divide-y rounded-lg border text-sm">
      {history.data.items.map((row) => (
        <li key={row.id} className="flex items-center gap-3 px-4 py-2.5">
          <span className="flex-1 text-muted-foreground">{format.dateTime(row.changedAt)}</span>
          <span className="tabular-nums">
            {row.oldPrice === null ? (
              ''
            ) : (
              <span className="text-muted-foreground line-through">{money(row.oldPrice, row.currency)}</span>
            )}{' '}
            {money(row.newPrice, row.currency)}
          </span>
          <Badge>{row.source}</Badge>
        </li>
      ))}
    </ul>
  );
}

type ImportResult = {
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  errors: Array<{ row: number; sku: string | null; message: string }>;
  errorsTruncated: boolean;
  aborted: string | null;
};

function ImportDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const t = useT();
  const { ws } = useWorkspace();
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [result, setResult] = useState<ImportResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const close = (next: boolean) => {
    if (progress !== null) return;
    onOpenChange(next);
    if (!next) {
      setFile(null);
      setResult(null);
      setError(null);
    }
  };
  const run = async () => {
    if (!file) return;
    setError(null);
    setResult(null);
    setProgress(0);
    try {
      const lower = file.name.toLowerCase();
      const contentType = lower.endsWith('.json')
        ? 'application/json'
        : lower.endsWith('.ndjson') || lower.endsWith('.jsonl')
          ? 'application/x-ndjson'
          : 'text/csv';
      const answer = await uploadWithProgress<ImportResult>({
        url: `/api/workspaces/${ws}/products/import`,
        body: file,
        contentType,
        onProgress: setProgress,
      });
      setResult(answer);
      await queryClient.invalidateQueries({ queryKey: ['products', ws] });
    } catch (failure) {
      setError(errorText(failure) ?? t('common.failed'));
    } finally {
      setProgress(null);
    }
  };
  return (
    <DialogRoot open={open} onOpenChange={close}>
      <DialogContent
        title={t('products.import')}
        description={t('products.importDescription')}
        className="sm:max-w-2xl"
      >
        <div className="grid gap-4">
          <label className="flex cursor-pointer flex-col items-center gap-2 rounded-lg border border-dashed bg-muted/30 px-4 py-8 text-center hover:border-primary">
            <FileUp className="size-6 text-muted-foreground" />
            <span className="text-sm font-medium">{file ? file.name : t('products.chooseFile')}</span>
            <span className="text-xs text-muted-foreground">{t('products.importHint')}</span>
            <input
              type="file"
              accept=".csv,.json,.ndjson,.jsonl,text/csv,application/json"
              className="sr-only"
              data-testid="import-file"
              onChange={(event) => {
                setFile(event.target.files?.[0] ?? null);
                setResult(null);
              }}
            />
          </label>
          {progress !== null && (
            <div className="grid gap-1.5">
              <div className="flex justify-between text-xs text-muted-foreground">
                <span>{progress < 1 ? t('products.uploading') : t('products.processing')}</span>
                <span className="tabular-nums">{Math.round(progress * 100)}%</span>
              </div>
              <ProgressBar value={progress} />
            </div>
          )}
          <FormError message={error} />
          {result && (
            <div className="grid gap-3" data-testid="import-result">
              <div className="grid grid-cols-2 gap-2 sm:grid-cols-4">
                <Count label={t('products.created2')} value={result.created} tone="text-success" />
                <Count label={t('products.updated')} value={result.updated} tone="text-primary" />
                <Count
                  label={t('products.unchanged')}
                  value={result.unchanged}
                  tone="text-muted-foreground"
                />
                <Count
                  label={t('products.failedRows')}
                  value={result.failed}
                  tone={result.failed ? 'text-destructive' : 'text-muted-foreground'}
                />
              </div>
              {result.aborted && <FormError message={result.aborted} />}
              {result.errors.length > 0 && (
                <div className="max-h-56 overflow-y-auto rounded-lg border">
                  <Table>
                    <THead>
                      <tr>
                        <TH className="w-16">{t('products.row')}</TH>
                        <TH className="w-28">SKU</TH>
                        <TH>{t('products.error')}</TH>
                      </tr>
                    </THead>
                    <TBody>
                      {result.errors.map((row) => (
                        <TR key={`${row.row}-${row.message}`} data-testid="import-error">
                          <TD className="tabular-nums">{row.row}</TD>
                          <TD className="font-mono text-xs">{row.sku ?? '—'}</TD>
                          <TD className="text-destructive">{row.message}</TD>
                        </TR>
                      ))}
                    </TBody>
                  </Table>
                </div>
              )}
              {result.errorsTruncated && (
                <p className="text-xs text-muted-foreground">{t('products.errorsTruncated')}</p>
              )}
            </div>
          )}
          <div className="flex justify-end gap-2">
            <Button variant="outline" onClick={() => close(false)} disabled={progress !== null}>
              {result ? t('common.done') : t('common.cancel')}
            </Button>
            <Button onClick={run} loading={progress !== null} disabled={!file}>
              {t('products.startImport')}
            </Button>
          </div>
        </div>
      </DialogContent>
    </DialogRoot>
  );
}

function Count({ label, value, tone }: { label: string; value: number; tone: string }) {
  return (
    <div className="rounded-lg border p-3">
      <p className="text-xs text-muted-foreground">{label}</p>
      <p className={`text-xl font-semibold tabular-nums ${tone}`}>{value}</p>
    </div>
  );
}
