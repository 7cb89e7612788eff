/** A job attempt that threw. */
export interface JobFailure {
  queue: string;
  jobId: string;
  /** The attempt that failed, 1 on the first run. */
  attempt: number;
  error: unknown;
}

/** Log hooks of the queue implementations. */
export interface QueueHooks {
  /** An attempt failed and the job will be retried after its backoff. */
  onAttemptFailed?(failure: JobFailure): void;
  /** The last attempt failed; the job is counted in `failed` and not retried. */
  onFailed?(failure: JobFailure): void;
}

/** Calls a log hook; a throwing hook must not break job bookkeeping. */
export function report(hook: ((failure: JobFailure) => void) | undefined, failure: JobFailure): void {
  try {
    hook?.(failure);
  } catch {
    // A broken log hook has nowhere better to report to.
  }
}
