import type { ServerResponse } from 'node:http';
import type { Logger } from '../../platform/logger.ts';
import type { Metrics } from '../../platform/metrics.ts';
import type { Role } from '../workspaces/schema.ts';
import { hasRole } from '../workspaces/service.ts';
import type { EventBus, RealtimeEvent } from './event-bus.ts';

/**
 * The server side of `GET /api/workspaces/:ws/events`: holds the open Server-Sent Events
 * streams of this instance, grouped by workspace, and writes each event of the bus to the
 * streams of its workspace only.
 *
 * - Each event is serialized once per audience (full / viewer), not once per client.
 * - Back-pressure: a client whose unsent bytes exceed `maxBufferBytes` (a stalled or slow
 *   reader) is disconnected rather than buffered without bound; EventSource reconnects and
 *   replays with `Last-Event-ID`.
 * - One timer writes the keep-alive comment to every stream, so proxies keep idle streams open.
 */
export interface SseHub {
  open(options: OpenStream): void;
  /** Streams open on this instance. */
  count(): number;
  /** Ends every stream (graceful shutdown); clients reconnect to another instance. */
  closeAll(): void;
}

export interface OpenStream {
  response: ServerResponse;
  workspaceId: string;
  role: Role;
  lastEventId?: string | undefined;
  /** Headers already set on the reply (request id, CORS) to keep on the stream. */
  headers?: Record<string, string | number | string[] | undefined>;
}

interface Client {
  response: ServerResponse;
  workspaceId: string;
  /** Whether restricted fields (internal notes' text) may be sent to this client. */
  full: boolean;
}

export interface SseHubOptions {
  events: Pick<EventBus, 'listen' | 'since'>;
  logger: Pick<Logger, 'debug' | 'warn'>;
  metrics: Metrics;
  heartbeatMs: number;
  maxBufferBytes: number;
  /** Reconnection delay suggested to EventSource, in ms. */
  retryMs?: number;
}

/** The role that sees restricted event fields; below it, viewers get the event without them. */
export const RESTRICTED_ROLE: Role = 'operator';

export function createSseHub(options: SseHubOptions): SseHub {
  const byWorkspace = new Map<string, Set<Client>>();
  let total = 0;
  const gauge = options.metrics.gauge('switchboard_sse_clients', 'Open Server-Sent Events streams');
  const dropped = options.metrics.counter(
    'switchboard_sse_dropped_total',
    'Event streams closed because the client did not keep up',
  );

  const remove = (client: Client) => {
    const set = byWorkspace.get(client.workspaceId);
    if (!set?.delete(client)) return;
    if (set.size === 0) byWorkspace.delete(client.workspaceId);
    total -= 1;
    gauge.set(total);
  };

  /** Writes a frame unless the client is over its buffer limit, in which case it is dropped. */
  const write = (client: Client, frame: string) => {
    const { response } = client;
    if (response.destroyed || response.writableEnded) return;
    if (response.writableLength > options.maxBufferBytes) {
      dropped.inc();
      options.logger.warn(
        { workspaceId: client.workspaceId, buffered: response.writableLength },
        'event stream dropped: client too slow',
      );
      remove(client);
      response.destroy();
      return;
    }
    response.write(frame);
  };

  const stopListening = options.events.listen((event) => {
    const set = byWorkspace.get(event.workspaceId);
    if (!set) return;
    let fullFrame: string | undefined;
    let viewerFrame: string | undefined;
    for (const client of [...set]) {
      if (client.full) {
        fullFrame ??= frameOf(event, true);
        write(client, fullFrame);
      } else {
        viewerFrame ??= frameOf(event, false);
        write(client, viewerFrame);
      }
    }
  });

  const heartbeat = setInterval(() => {
    for (const set of byWorkspace.values()) for (const client of [...set]) write(client, ': ping\n\n');
  }, options.heartbeatMs);
  heartbeat.unref();

  return {
    open({ response, workspaceId, role, lastEventId, headers }) {
      // Gone between the access check and now: its 'close' already fired, nothing to hold.
      if (response.destroyed || response.socket?.destroyed !== false) return;
      const client: Client = { response, workspaceId, full: hasRole(role, RESTRICTED_ROLE) };
      response.writeHead(200, {
        ...withoutUndefined(headers ?? {}),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        // nginx buffers proxied responses by default, which would hold events back.
        'x-accel-buffering': 'no',
      });
      response.socket?.setNoDelay(true);
      let set = byWorkspace.get(workspaceId);
      if (!set) {
        set = new Set();
        byWorkspace.set(workspaceId, set);
      }
      set.add(client);
      total += 1;
      gauge.set(total);
      response.on('close', () => remove(client));
      response.write(`retry: ${options.retryMs ?? 3000}\n\n`);
      if (lastEventId) {
        const missed = options.events.since(workspaceId, lastEventId);
        if (missed === undefined) {
          // More was missed than the ring holds: the client must reload what it shows.
          write(client, `event: reset\ndata: {"reason":"replay unavailable"}\n\n`);
        } else {
          for (const event of missed) write(client, frameOf(event, client.full));
        }
      } else {
        write(client, ': connected\n\n');
      }
    },
    count: () => total,
    closeAll() {
      clearInterval(heartbeat);
      stopListening();
      for (const set of byWorkspace.values()) for (const client of set) client.response.end();
      byWorkspace.clear();
      total = 0;
      gauge.set(0);
    },
  };
}

/** One event as an SSE frame: `id`, `event` (its type) and the JSON data on one line. */
export function frameOf(event: RealtimeEvent, full: boolean): string {
  const data = full && event.restricted ? { ...event.data, ...event.restricted } : event.data;
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify({ ...data, at: event.at })}\n\n`;
}

function withoutUndefined(headers: Record<string, string | number | string[] | undefined>) {
  const result: Record<string, string | number | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) result[name] = value;
  return result;
}
