import { CircleAlert, CircleCheck, X } from 'lucide-react';
import { Toast as T } from 'radix-ui';
import { type ReactNode, useSyncExternalStore } from 'react';
import { cn } from '@/lib/cn';

interface ToastItem {
  id: number;
  title: string;
  description?: string;
  tone: 'success' | 'error';
}

let items: ToastItem[] = [];
let nextId = 1;
const listeners = new Set<() => void>();
const emit = () => {
  for (const listener of listeners) listener();
};

/** Shows a short notice in the corner; `toast.error` for failures that have no form to sit in. */
export const toast = {
  success(title: string, description?: string) {
    items = [...items, { id: nextId++, title, tone: 'success', ...(description ? { description } : {}) }];
    emit();
  },
  error(title: string, description?: string) {
    items = [...items, { id: nextId++, title, tone: 'error', ...(description ? { description } : {}) }];
    emit();
  },
};

function dismiss(id: number) {
  items = items.filter((item) => item.id !== id);
  emit();
}

export function Toaster({ children }: { children: ReactNode }) {
  const list = useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => items,
  );
  return (
    <T.Provider duration={4000} swipeDirection="right">
      {children}
      {list.map((item) => (
        <T.Root
          key={item.id}
          onOpenChange={(open) => !open && dismiss(item.id)}
          className={cn(
            'group flex items-start gap-3 rounded-lg border bg-popover p-4 pr-9 text-popover-foreground shadow-lg animate-[sb-toast-in_160ms_ease-out] relative',
          )}
        >
          {item.tone === 'success' ? (
            <CircleCheck className="mt-0.5 size-4 shrink-0 text-success" aria-hidden="true" />
          ) : (
            <CircleAlert className="mt-0.5 size-4 shrink-0 text-destructive" aria-hidden="true" />
          )}
          <div className="grid gap-0.5">
            <T.Title className="text-sm font-medium">{item.title}</T.Title>
            {item.description && (
              <T.Description className="text-sm text-muted-foreground">{item.description}</T.Description>
            )}
          </div>
          <T.Close
            className="absolute top-3 right-3 rounded p-0.5 text-muted-foreground hover:text-foreground"
            aria-label="Close"
          >
            <X className="size-3.5" />
          </T.Close>
        </T.Root>
      ))}
      <T.Viewport
        data-sb-toasts=""
        className="fixed right-0 bottom-0 z-[100] flex w-full max-w-sm flex-col gap-2 p-4 outline-none"
      />
    </T.Provider>
  );
}
