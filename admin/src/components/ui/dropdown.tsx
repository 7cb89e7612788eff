import { DropdownMenu as M } from 'radix-ui';
import type { ComponentProps, ReactNode } from 'react';
import { cn } from '@/lib/cn';

export const Dropdown = M.Root;
export const DropdownTrigger = M.Trigger;
export const DropdownGroup = M.Group;
export const DropdownRadioGroup = M.RadioGroup;

export function DropdownContent({ className, align = 'end', ...props }: ComponentProps<typeof M.Content>) {
  return (
    <M.Portal>
      <M.Content
        align={align}
        sideOffset={6}
        className={cn(
          'z-50 min-w-52 overflow-hidden rounded-lg border bg-popover p-1 text-popover-foreground shadow-lg animate-[sb-fade-in_100ms_ease-out]',
          className,
        )}
        {...props}
      />
    </M.Portal>
  );
}

const item =
  'relative flex cursor-default items-center gap-2 rounded-md px-2 py-1.5 text-sm outline-none select-none data-[highlighted]:bg-muted data-[disabled]:opacity-50 [&_svg]:size-4 [&_svg]:text-muted-foreground';

export function DropdownItem({ className, ...props }: ComponentProps<typeof M.Item>) {
  return <M.Item className={cn(item, className)} {...props} />;
}

export function DropdownRadioItem({ className, children, ...props }: ComponentProps<typeof M.RadioItem>) {
  return (
    <M.RadioItem className={cn(item, 'pl-7', className)} {...props}>
      <M.ItemIndicator className="absolute left-2 inline-flex size-3.5 items-center justify-center">
        <span className="size-1.5 rounded-full bg-primary" />
      </M.ItemIndicator>
      {children}
    </M.RadioItem>
  );
}

export function DropdownLabel({ children }: { children: ReactNode }) {
  return <M.Label className="px-2 py-1.5 text-xs font-medium text-muted-foreground">{children}</M.Label>;
}

export function DropdownSeparator() {
  return <M.Separator className="-mx-1 my-1 h-px bg-border" />;
}
