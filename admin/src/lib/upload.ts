import { getSession, refreshSession } from '@/api/client';
import { ApiError } from '@/api/errors';

/**
 * Sends a file as the raw request body with XMLHttpRequest, which (unlike fetch) reports
 * upload progress. Authenticated like the API client; a 401 refreshes the session and retries
 * once. Resolves with the parsed JSON answer, rejects with ApiError.
 */
export async function uploadWithProgress<T>(options: {
  method?: 'POST' | 'PUT';
  url: string;
  body: Blob;
  contentType: string;
  onProgress?: (fraction: number) => void;
}): Promise<T> {
  const attempt = (token: string | undefined) =>
    new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(options.method ?? 'POST', options.url);
      xhr.setRequestHeader('content-type', options.contentType);
      if (token) xhr.setRequestHeader('authorization', `Bearer ${token}`);
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) options.onProgress?.(event.loaded / event.total);
      };
      xhr.onload = () => {
        let body: unknown = null;
        try {
          body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
        } catch {
          body = null;
        }
        resolve({ status: xhr.status, body });
      };
      xhr.onerror = () => reject(new ApiError(0, 'NETWORK', 'The upload did not reach the server'));
      xhr.send(options.body);
    });
  let result = await attempt(getSession()?.accessToken);
  if (result.status === 401) {
    const session = await refreshSession();
    if (session) result = await attempt(session.accessToken);
  }
  if (result.status >= 200 && result.status < 300) return result.body as T;
  const error = (result.body as { error?: { code?: string; message?: string; details?: unknown } } | null)
    ?.error;
  throw new ApiError(
    result.status,
    error?.code ?? 'ERROR',
    error?.message ?? `HTTP ${result.status}`,
    error?.details,
  );
}
