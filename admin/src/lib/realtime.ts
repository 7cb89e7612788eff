import { useEffect, useRef, useState } from 'react';
import { getSession, refreshSession } from '@/api/client';

/** Event types of `GET /api/workspaces/:ws/events` (src/features/realtime/event-bus.ts). */
export const REALTIME_EVENTS = [
  'message.created',
  'message.status',
  'conversation.mode',
  'escalation.created',
  'escalation.updated',
  'escalation.note',
  'escalation.sla_breached',
  'presence',
  'reset',
] as const;

export type RealtimeType = (typeof REALTIME_EVENTS)[number];
export type RealtimeData = Record<string, unknown>;
export type RealtimeStatus = 'connecting' | 'live' | 'offline';

/**
 * Subscribes to the workspace's live events. EventSource cannot send headers, so the access
 * token rides in `?access_token=`; when the stream drops for good (an expired token closes it)
 * the session is refreshed and the stream reopened with `lastEventId=` so the server replays
 * what was missed (or sends `reset`: the caller reloads what it shows).
 */
export function useRealtime(
  ws: string,
  onEvent: (type: RealtimeType, data: RealtimeData) => void,
): RealtimeStatus {
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const [status, setStatus] = useState<RealtimeStatus>('connecting');
  useEffect(() => {
    if (!ws) return;
    let source: EventSource | null = null;
    let lastId: string | null = null;
    let stopped = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    const open = async () => {
      if (stopped) return;
      const session = getSession() ?? (await refreshSession());
      if (stopped) return;
      if (!session) {
        setStatus('offline');
        return;
      }
      const params = new URLSearchParams({ access_token: session.accessToken });
      if (lastId) params.set('lastEventId', lastId);
      source = new EventSource(`/api/workspaces/${ws}/events?${params}`);
      source.onopen = () => {
        attempt = 0;
        setStatus('live');
      };
      source.onerror = () => {
        if (!source || source.readyState !== EventSource.CLOSED) {
          setStatus('connecting');
          return;
        }
        // Closed for good (401 with a stale token, or the server went away): refresh and reopen.
        setStatus('offline');
        source = null;
        attempt += 1;
        retry = setTimeout(
          async () => {
            await refreshSession();
            void open();
          },
          Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5)),
        );
      };
      for (const type of REALTIME_EVENTS) {
        source.addEventListener(type, (event) => {
          const message = event as MessageEvent<string>;
          if (message.lastEventId) lastId = message.lastEventId;
          let data: RealtimeData = {};
          try {
            data = JSON.parse(message.data) as RealtimeData;
          } catch {
            // A frame we cannot read changes nothing; the next one may.
          }
          handler.current(type, data);
        });
      }
    };
    void open();
    return () => {
      stopped = true;
      clearTimeout(retry);
      source?.close();
    };
  }, [ws]);
  return status;
}
