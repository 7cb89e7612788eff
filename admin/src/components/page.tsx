import { Link } from '@tanstack/react-router';
import { CircleAlert, Compass } from 'lucide-react';
import type { ReactNode } from 'react';
import { useT } from '@/i18n';
import { Button } from './ui/button';
import { Card } from './ui/card';
import { EmptyState } from './ui/empty-state';

/** Title row of a screen: title, one line of context, actions on the right. */
export function PageHeader({
  title,
  description,
  actions,
  back,
}: {
  title: ReactNode;
  description?: ReactNode;
  actions?: ReactNode;
  back?: ReactNode;
}) {
  return (
    <header className="mb-6 flex flex-wrap items-end justify-between gap-4">
      <div className="min-w-0">
        {back && <div className="mb-2 text-sm text-muted-foreground">{back}</div>}
        <h1 className="truncate text-2xl font-semibold tracking-tight">{title}</h1>
        {description && <p className="mt-1 text-sm text-muted-foreground">{description}</p>}
      </div>
      {actions && <div className="flex flex-wrap items-center gap-2">{actions}</div>}
    </header>
  );
}

export function QueryError({ error, retry }: { error: unknown; retry?: () => void }) {
  const t = useT();
  return (
    <EmptyState
      icon={CircleAlert}
      title={t('common.loadFailed')}
      description={error instanceof Error ? error.message : String(error)}
      action={
        retry && (
          <Button variant="outline" onClick={retry}>
            {t('common.retry')}
          </Button>
        )
      }
    />
  );
}

export function NotFound() {
  const t = useT();
  return (
    <div className="flex min-h-screen items-center justify-center p-6">
      <Card className="w-full max-w-md">
        <EmptyState
          icon={Compass}
          title={t('notFound.title')}
          description={t('notFound.description')}
          action={
            <Button asChild>
              <Link to="/">{t('notFound.home')}</Link>
            </Button>
          }
        />
      </Card>
    </div>
  );
}
