/**
 * A small Server-Sent Events client for tests, on fetch streaming (no EventSource in Node 20):
 * parses `id`, `event`, `data` and comment lines as the EventSource spec does, and lets a test
 * wait for an event by predicate.
 */
export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
  /** `data` parsed as JSON (undefined when it is not JSON). */
  json: Record<string, unknown>;
}

export interface SseClient {
  /** HTTP status of the response (200 for a stream). */
  status: number;
  headers: Headers;
  /** Every event received so far, in order. */
  events: SseEvent[];
  /** Comment lines received (keep-alives), e.g. `ping`. */
  comments: string[];
  /** The last event id seen (what EventSource would send as Last-Event-ID). */
  lastEventId: string | undefined;
  /** Resolves with the first event (already received or future) matching, or rejects after `timeoutMs`. */
  waitFor(predicate: (event: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  /** Resolves when the server ended the stream. */
  ended: Promise<void>;
  close(): void;
}

export interface SseConnectOptions {
  token?: string;
  /** Sent as `?access_token=` instead of the Authorization header. */
  queryToken?: boolean;
  lastEventId?: string;
  headers?: Record<string, string>;
}

export async function connectSse(url: string, options: SseConnectOptions = {}): Promise<SseClient> {
  const abort = new AbortController();
  const headers: Record<string, string> = { accept: 'text/event-stream', ...options.headers };
  let target = url;
  if (options.token && options.queryToken) {
    target += `${url.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(options.token)}`;
  } else if (options.token) {
    headers.authorization = `Bearer ${options.token}`;
  }
  if (options.lastEventId) headers['last-event-id'] = options.lastEventId;
  const response = await fetch(target, { headers, signal: abort.signal });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const waiters = new Set<() => void>();
  let finished = false;
  const client: SseClient = {
    status: response.status,
    headers: response.headers,
    events,
    comments,
    lastEventId: options.lastEventId,
    waitFor(predicate, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(predicate);
          if (found) {
            cleanup();
            resolve(found);
          } else if (finished) {
            cleanup();
            reject(new Error(`event stream ended before the awaited event (${events.length} events)`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `no matching event within ${timeoutMs} ms; got: ${events.map((event) => event.event).join(', ')}`,
            ),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    ended: Promise.resolve(),
    close: () => abort.abort(),
  };
  if (response.status !== 200 || !response.body) {
    finished = true;
    await response.text().catch(() => undefined);
    return client;
  }
  const body = response.body;
  client.ended = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    let frame: { id?: string; event?: string; data: string[] } = { data: [] };
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let newline = buffer.search(/\r\n|\r|\n/);
        while (newline >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
          if (line === '') {
            if (frame.data.length > 0 || frame.event) {
              const data = frame.data.join('\n');
              const event: SseEvent = {
                id: frame.id,
                event: frame.event ?? 'message',
                data,
                json: parse(data),
              };
              if (frame.id !== undefined) client.lastEventId = frame.id;
              events.push(event);
              for (const waiter of [...waiters]) waiter();
            }
            frame = { data: [] };
          } else if (line.startsWith(':')) {
            comments.push(line.slice(1).trim());
          } else {
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'data') frame.data.push(value);
            else if (field === 'event') frame.event = value;
            else if (field === 'id') frame.id = value;
          }
          newline = buffer.search(/\r\n|\r|\n/);
        }
      }
    } catch {
      // aborted by close() or the connection was cut: the stream is over either way
    } finally {
      finished = true;
      for (const waiter of [...waiters]) waiter();
    }
  })();
  return client;
}

function parse(data: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(data);
    return typeof value === 'object' && value !== null ? Object.fromEntries(Object.entries(value)) : {};
  } catch {
    return {};
  }
}
