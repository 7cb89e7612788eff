import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { AppError } from '../../platform/errors.ts';
import type { App } from '../../platform/http/create-server.ts';
import { commonErrors } from '../../platform/http/schemas.ts';
import { roleOfRequest } from '../access/check-access.ts';
import { createSseHub, type SseHub } from './sse-hub.ts';

/**
 * `GET /api/workspaces/:ws/events`: the workspace's live events as Server-Sent Events.
 * Returns the hub so the caller (and tests) can see how many streams are open.
 */
export function registerRealtimeRoutes(app: App, ctx: AppContext): SseHub {
  const hub = createSseHub({
    events: ctx.events,
    logger: ctx.logger,
    metrics: ctx.metrics,
    heartbeatMs: ctx.config.SSE_HEARTBEAT_MS,
    maxBufferBytes: ctx.config.SSE_MAX_BUFFER_BYTES,
  });
  // Before the server stops accepting and waits for open connections: streams never end on
  // their own, so they would hold a graceful shutdown until its timeout.
  app.addHook('preClose', async () => hub.closeAll());

  app.get(
    '/api/workspaces/:ws/events',
    {
      config: { access: { role: 'viewer' }, queryToken: true },
      // The request line would carry ?access_token= into the log.
      logSerializers: {
        req: (request: { method: string; url: string; id: string }) => ({
          method: request.method,
          url: request.url.replace(/([?&]access_token=)[^&]*/, '$1[redacted]'),
          id: request.id,
        }),
      },
      schema: {
        tags: ['realtime'],
        security: [{ bearer: [] }],
        summary: 'Live events of the workspace (Server-Sent Events)',
        description: [
          'An endless `text/event-stream` (send `Accept: text/event-stream`). Each event has an `id`,',
          'an `event` type — message.created, message.status, conversation.mode, escalation.created,',
          'escalation.updated, escalation.note, escalation.sla_breached, presence — and JSON `data`.',
          'Reconnect with `Last-Event-ID` (EventSource does it) to replay what was missed; when',
          'that is too old the stream starts with a `reset` event: reload what you show.',
          'Keep-alive comments arrive every SSE_HEARTBEAT_MS; a client that does not read is dropped.',
          'EventSource cannot set headers: pass the access token as `?access_token=` instead.',
          'Viewers receive every event except the text of internal notes (escalation.note `body`).',
        ].join(' '),
        params: z.object({ ws: z.uuid() }),
        querystring: z.object({
          access_token: z.string().max(4096).optional().describe('The access token, for EventSource'),
          lastEventId: z.string().max(100).optional().describe('Same as the Last-Event-ID header'),
        }),
        response: { 200: z.string().describe('text/event-stream'), ...commonErrors },
      },
    },
    async (request, reply) => {
      const accept = request.headers.accept ?? '';
      if (!accept.includes('text/event-stream'))
        throw new AppError('BAD_REQUEST', {
          message: 'This is an event stream: send Accept: text/event-stream',
        });
      const header = request.headers['last-event-id'];
      const lastEventId = (typeof header === 'string' ? header : undefined) ?? request.query.lastEventId;
      const role = roleOfRequest(request);
      const headers = reply.getHeaders();
      reply.hijack();
      hub.open({
        response: reply.raw,
        workspaceId: request.params.ws,
        role,
        lastEventId: lastEventId?.slice(0, 100),
        headers,
      });
    },
  );
  return hub;
}
