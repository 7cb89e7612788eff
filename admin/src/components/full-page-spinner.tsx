import { Spinner } from './ui/button';

export function FullPageSpinner() {
  return (
    <div
      className="flex min-h-[40vh] w-full items-center justify-center text-muted-foreground"
      role="status"
      aria-label="Loading"
    >
      <Spinner className="size-6" />
    </div>
  );
}
