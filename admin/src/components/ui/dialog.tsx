import { X } from 'lucide-react';
import { Dialog as D } from 'radix-ui';
import { type ReactNode, useState } from 'react';
import { useT } from '@/i18n';
import { cn } from '@/lib/cn';
import { Button } from './button';

export const DialogRoot = D.Root;
export const DialogTrigger = D.Trigger;
export const DialogClose = D.Close;

export function DialogContent({
  title,
  description,
  children,
  className,
  footer,
}: {
  title: ReactNode;
  description?: ReactNode;
  children?: ReactNode;
  footer?: ReactNode;
  className?: string;
}) {
  const t = useT();
  return (
    <D.Portal>
      <D.Overlay className="fixed inset-0 z-50 bg-black/40 backdrop-blur-[2px] animate-[sb-fade-in_120ms_ease-out]" />
      <D.Content
        className={cn(
          'fixed top-1/2 left-1/2 z-50 grid grid-cols-[minmax(0,1fr)] max-h-[90vh] w-[calc(100vw-2rem)] max-w-lg -translate-x-1/2 -translate-y-1/2 gap-4 overflow-y-auto',
          'rounded-xl border bg-popover p-6 text-popover-foreground shadow-2xl animate-[sb-pop-in_140ms_ease-out]',
          className,
        )}
        {...(description ? {} : { 'aria-describedby': undefined })}
      >
        <div className="pr-8">
          <D.Title className="text-lg font-semibold leading-6">{title}</D.Title>
          {description && (
            <D.Description className="mt-1.5 text-sm text-muted-foreground">{description}</D.Description>
          )}
        </div>
        {children}
        {footer && <div className="flex flex-col-reverse gap-2 sm:flex-row sm:justify-end">{footer}</div>}
        <D.Close
          className="absolute top-4 right-4 rounded-md p-1 text-muted-foreground hover:bg-muted hover:text-foreground"
          aria-label={t('common.close')}
        >
          <X className="size-4" />
        </D.Close>
      </D.Content>
    </D.Portal>
  );
}

export interface ConfirmProps {
  title: ReactNode;
  description: ReactNode;
  confirmLabel: ReactNode;
  /** Red button for what cannot be undone. */
  destructive?: boolean;
  onConfirm: () => Promise<unknown> | unknown;
  children: ReactNode;
}

/** Wraps a trigger; the action runs only after the person confirms it. */
export function Confirm({
  title,
  description,
  confirmLabel,
  destructive = true,
  onConfirm,
  children,
}: ConfirmProps) {
  const t = useT();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  return (
    <D.Root open={open} onOpenChange={setOpen}>
      <D.Trigger asChild>{children}</D.Trigger>
      <DialogContent
        title={title}
        description={description}
        className="max-w-md"
        footer={
          <>
            <Button variant="outline" onClick={() => setOpen(false)}>
              {t('common.cancel')}
            </Button>
            <Button
              variant={destructive ? 'destructive' : 'primary'}
              loading={busy}
              onClick={async () => {
                setBusy(true);
                try {
                  await onConfirm();
                  setOpen(false);
                } finally {
                  setBusy(false);
                }
              }}
            >
              {confirmLabel}
            </Button>
          </>
        }
      />
    </D.Root>
  );
}
