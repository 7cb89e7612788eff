/** The API's one error shape: `{ error: { code, message, details? } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** Field messages from `details` (`[{ path: '/email', message }]`), keyed by the field path. */
  fieldErrors(): Record<string, string> {
    const fields: Record<string, string> = {};
    if (!Array.isArray(this.details)) return fields;
    for (const item of this.details) {
      if (typeof item !== 'object' || item === null) continue;
      const path = 'path' in item && typeof item.path === 'string' ? item.path : '';
      const message = 'message' in item && typeof item.message === 'string' ? item.message : '';
      const key = path.replace(/^\//, '').replaceAll('/', '.');
      if (key && message && !(key in fields)) fields[key] = message;
    }
    return fields;
  }
}

interface Result<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of a successful call, or throws ApiError built from the error body. */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw toApiError(response.status, error);
  // openapi-fetch leaves `data` undefined only for bodiless answers (204), typed so already.
  return data as T;
}

function toApiError(status: number, body: unknown): ApiError {
  if (typeof body === 'object' && body !== null && 'error' in body) {
    const inner = body.error;
    if (typeof inner === 'object' && inner !== null) {
      const code = 'code' in inner && typeof inner.code === 'string' ? inner.code : 'ERROR';
      const message =
        'message' in inner && typeof inner.message === 'string' ? inner.message : `HTTP ${status}`;
      return new ApiError(status, code, message, 'details' in inner ? inner.details : undefined);
    }
  }
  return new ApiError(status, status >= 500 ? 'INTERNAL' : 'ERROR', `HTTP ${status}`);
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}
