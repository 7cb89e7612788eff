import { z } from 'zod';
import { uuidv7 } from '../../platform/db/columns.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Ports, Unsubscribe } from '../../platform/ports/types.ts';

/**
 * Realtime events for the panel: raised by any feature on any instance, fanned out through
 * the pub/sub port (Redis with REDIS_URL) to every instance, and kept in a per-workspace ring
 * so a reconnecting client can replay what it missed (`Last-Event-ID`).
 *
 * Every instance receives every event, so every instance holds the same recent events and a
 * client may reconnect to any of them.
 */
export interface EventBus {
  /** Publishes an event to every instance. Never throws: a lost event is logged, not fatal. */
  publish(event: RealtimeEventInput): Promise<void>;
  /** Calls `listener` with every event of every workspace arriving on this instance. */
  listen(listener: (event: RealtimeEvent) => void): () => void;
  /**
   * The recent events of a workspace after `lastEventId`, oldest first; `undefined` when that id
   * is no longer (or never was) in the ring, i.e. the client missed more than can be replayed.
   */
  since(workspaceId: string, lastEventId: string): RealtimeEvent[] | undefined;
  close(): Promise<void>;
}

export type RealtimeEventType =
  | 'message.created'
  | 'message.status'
  | 'conversation.mode'
  | 'escalation.created'
  | 'escalation.updated'
  | 'escalation.note'
  | 'escalation.sla_breached'
  | 'presence';

export interface RealtimeEventInput {
  workspaceId: string;
  type: RealtimeEventType;
  /** What every member who may open the stream (viewer and up) sees. */
  data: Record<string, unknown>;
  /**
   * Fields only operators and above see (internal notes' text). Viewers get the event with
   * `data` alone.
   */
  restricted?: Record<string, unknown>;
}

export interface RealtimeEvent extends RealtimeEventInput {
  id: string;
  /** ISO 8601 time the event was raised. */
  at: string;
}

const eventSchema = z.object({
  id: z.string(),
  at: z.string(),
  workspaceId: z.string(),
  type: z.enum([
    'message.created',
    'message.status',
    'conversation.mode',
    'escalation.created',
    'escalation.updated',
    'escalation.note',
    'escalation.sla_breached',
    'presence',
  ]),
  data: z.record(z.string(), z.unknown()),
  restricted: z.record(z.string(), z.unknown()).optional(),
});

export const REALTIME_CHANNEL = 'realtime';

export interface EventBusOptions {
  ports: Pick<Ports, 'pubsub'>;
  logger: Pick<Logger, 'error' | 'warn'>;
  /** Events kept per workspace for replay (default 500). */
  replaySize?: number;
  /** Workspaces whose rings are kept; the least recently active is forgotten first (default 10,000). */
  maxWorkspaces?: number;
}

/** Subscribes this instance to the realtime channel and returns the bus. */
export async function createEventBus(options: EventBusOptions): Promise<EventBus> {
  const replaySize = options.replaySize ?? 500;
  const maxWorkspaces = options.maxWorkspaces ?? 10_000;
  const rings = new Map<string, RealtimeEvent[]>();
  const listeners = new Set<(event: RealtimeEvent) => void>();
  let closed = false;

  const remember = (event: RealtimeEvent) => {
    let ring = rings.get(event.workspaceId);
    if (ring) {
      // Re-inserted so the Map's order is least recently active first.
      rings.delete(event.workspaceId);
    } else {
      ring = [];
      if (rings.size >= maxWorkspaces) {
        const oldest = rings.keys().next().value;
        if (oldest !== undefined) rings.delete(oldest);
      }
    }
    rings.set(event.workspaceId, ring);
    ring.push(event);
    if (ring.length > replaySize) ring.splice(0, ring.length - replaySize);
  };

  const unsubscribe: Unsubscribe = await options.ports.pubsub.subscribe(REALTIME_CHANNEL, (message) => {
    const parsed = eventSchema.safeParse(message);
    if (!parsed.success) {
      options.logger.warn({ issues: parsed.error.issues }, 'malformed realtime event ignored');
      return;
    }
    const event: RealtimeEvent = parsed.data;
    remember(event);
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        options.logger.error({ err: error, type: event.type }, 'realtime listener failed');
      }
    }
  });

  return {
    async publish(input) {
      if (closed) return;
      const event: RealtimeEvent = { id: uuidv7(), at: new Date().toISOString(), ...input };
      try {
        await options.ports.pubsub.publish(REALTIME_CHANNEL, event);
      } catch (error) {
        options.logger.error({ err: error, type: input.type }, 'realtime event not published');
      }
    },
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    since(workspaceId, lastEventId) {
      const ring = rings.get(workspaceId) ?? [];
      const index = ring.findIndex((event) => event.id === lastEventId);
      return index < 0 ? undefined : ring.slice(index + 1);
    },
    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      await unsubscribe().catch(() => undefined);
    },
  };
}
