import { ChevronLeft, ChevronRight } from 'lucide-react';
import { useState } from 'react';
import { useT } from '@/i18n';
import { Button } from './button';

/**
 * Cursor pagination state: the API returns `nextCursor`; going back pops the stack of
 * cursors already visited.
 */
export function useCursorPages() {
  const [stack, setStack] = useState<string[]>([]);
  const cursor = stack.at(-1);
  return {
    cursor,
    page: stack.length + 1,
    next: (nextCursor: string) => setStack((list) => [...list, nextCursor]),
    previous: () => setStack((list) => list.slice(0, -1)),
    reset: () => setStack([]),
  };
}

export function Pagination({
  pages,
  nextCursor,
  count,
}: {
  pages: ReturnType<typeof useCursorPages>;
  nextCursor: string | null | undefined;
  count?: number;
}) {
  const t = useT();
  if (pages.page === 1 && !nextCursor) return null;
  return (
    <nav
      aria-label={t('common.pagination')}
      className="flex items-center justify-between gap-3 border-t px-5 py-3 text-sm text-muted-foreground"
    >
      <span>
        {t('common.page', { page: pages.page })}
        {count !== undefined && ` · ${t('common.shown', { count })}`}
      </span>
      <div className="flex gap-2">
        <Button variant="outline" size="sm" disabled={pages.page === 1} onClick={pages.previous}>
          <ChevronLeft /> {t('common.previous')}
        </Button>
        <Button
          variant="outline"
          size="sm"
          disabled={!nextCursor}
          onClick={() => nextCursor && pages.next(nextCursor)}
        >
          {t('common.next')} <ChevronRight />
        </Button>
      </div>
    </nav>
  );
}
