import { useNavigate } from '@tanstack/react-router';
import { useEffect, useRef } from 'react';

/**
 * Navigates once on mount. TanStack's `<Navigate>` navigates again whenever its props object
 * changes, and while the target route's lazy chunk loads the current tree keeps rendering it
 * with new props: a render loop that freezes the tab.
 */
export function Redirect({ to, search }: { to: string; search?: Record<string, string> }) {
  const navigate = useNavigate();
  const done = useRef(false);
  // biome-ignore lint/correctness/useExhaustiveDependencies: one navigation per mount, by design
  useEffect(() => {
    if (done.current) return;
    done.current = true;
    void navigate({ to, ...(search ? { search } : {}), replace: true });
  }, []);
  return null;
}
