/**
 * The one error type of Switchboard. Domain code throws `AppError(code, …)`; the HTTP layer
 * maps the code to a status in one place (`statusOf`) and renders
 * `{"error":{"code","message","details?"}}`.
 *
 * Codes:
 * - BAD_REQUEST            malformed input that is not a schema violation (400)
 * - VALIDATION_ERROR       input failed its schema; `details` lists the issues (400)
 * - UNAUTHENTICATED        no or invalid credentials (401)
 * - FORBIDDEN              authenticated, but the role does not allow it (403)
 * - NOT_FOUND              no such resource in this workspace (404); also for other workspaces' resources
 * - CONFLICT               unique constraint, already exists, state does not allow it (409)
 * - GONE                   expired or revoked link (410)
 * - PAYLOAD_TOO_LARGE      body over the limit (413)
 * - UNSUPPORTED_MEDIA_TYPE content type not accepted (415)
 * - RATE_LIMITED           too many attempts; `details.retryAfterSeconds` (429)
 * - UPSTREAM_ERROR         an outside API (Telegram, LLM…) failed (502)
 * - UNAVAILABLE            a dependency is down (503)
 * - INTERNAL               anything unexpected (500)
 */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'VALIDATION_ERROR'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'GONE'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMITED'
  | 'UPSTREAM_ERROR'
  | 'UNAVAILABLE'
  | 'INTERNAL';

const statusByCode: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  VALIDATION_ERROR: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  GONE: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  UPSTREAM_ERROR: 502,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

export interface AppErrorOptions {
  message?: string;
  details?: unknown;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, options: AppErrorOptions = {}) {
    super(options.message ?? code.toLowerCase().replaceAll('_', ' '), { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options.details;
  }

  get status(): number {
    return statusOf(this.code);
  }
}

export function statusOf(code: ErrorCode): number {
  return statusByCode[code];
}

export function codeOfStatus(status: number): ErrorCode {
  const found = (Object.entries(statusByCode) as Array<[ErrorCode, number]>).find(([, s]) => s === status);
  if (found) return found[0];
  return status >= 500 ? 'INTERNAL' : 'BAD_REQUEST';
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/** Shorthand for the most common throw in domain code. */
export function notFound(what: string): AppError {
  return new AppError('NOT_FOUND', { message: `${what} not found` });
}
