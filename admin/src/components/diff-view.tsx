import { Equal } from 'lucide-react';
import { useT } from '@/i18n';
import { type Change, showValue } from '@/lib/diff';

/** Before/after per changed field: removed text on red, added on green. */
export function DiffView({ changes }: { changes: Change[] }) {
  const t = useT();
  if (changes.length === 0) {
    return (
      <p className="flex items-center gap-2 px-1 py-3 text-sm text-muted-foreground">
        <Equal className="size-4" /> {t('diff.none')}
      </p>
    );
  }
  return (
    <div className="grid gap-3">
      {changes.map((change) => (
        <div key={change.path} className="overflow-hidden rounded-lg border text-[13px]">
          <div className="border-b bg-muted/50 px-3 py-1.5 font-mono text-xs text-muted-foreground">
            {change.path}
          </div>
          {change.before !== undefined && (
            <pre className="bg-destructive/8 px-3 py-2 font-mono whitespace-pre-wrap break-words text-foreground/90">
              <span className="mr-2 select-none text-destructive">−</span>
              {showValue(change.before)}
            </pre>
          )}
          {change.after !== undefined && (
            <pre className="bg-success/10 px-3 py-2 font-mono whitespace-pre-wrap break-words text-foreground/90">
              <span className="mr-2 select-none text-success">+</span>
              {showValue(change.after)}
            </pre>
          )}
        </div>
      ))}
    </div>
  );
}
