import { cn } from '@/lib/cn';

export function Logo({ className, compact }: { className?: string; compact?: boolean }) {
  return (
    <span className={cn('inline-flex items-center gap-2.5 font-semibold tracking-tight', className)}>
      <svg viewBox="0 0 32 32" className="size-8 shrink-0" aria-hidden="true">
        <rect width="32" height="32" rx="8" className="fill-primary" />
        <path d="M9 12h14M9 20h9" stroke="white" strokeWidth="3" strokeLinecap="round" />
        <circle cx="23" cy="20" r="2.5" fill="white" fillOpacity="0.7" />
      </svg>
      {!compact && <span className="text-[17px]">Switchboard</span>}
    </span>
  );
}
