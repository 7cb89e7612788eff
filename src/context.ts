import type { Config } from './config.ts';
import type { Tracker } from './features/analytics/tracker.ts';
import type { BotConfigStore } from './features/bots/config-store.ts';
import type { Mailer } from './features/mail/service.ts';
import type { EventBus } from './features/realtime/event-bus.ts';
import type { Keys } from './platform/crypto.ts';
import type { Database, Db } from './platform/db/index.ts';
import type { Health } from './platform/health.ts';
import type { Logger } from './platform/logger.ts';
import type { Metrics } from './platform/metrics.ts';
import type { Ports } from './platform/ports/types.ts';

/** Everything a domain function may use, built once by the composition root (main.ts). */
export interface AppContext {
  config: Config;
  database: Database;
  db: Db;
  keys: Keys;
  ports: Ports;
  logger: Logger;
  metrics: Metrics;
  mailer: Mailer;
  health: Health;
  /** Published bot configs, cached in process and invalidated across instances on publish. */
  botConfigs: BotConfigStore;
  /** Analytics events, buffered and written in batches off the reply path. */
  analytics: Tracker;
  /** Realtime events for the panel, delivered to every instance (SSE streams subscribe). */
  events: EventBus;
  /** Package version, for /health and the OpenAPI document. */
  version: string;
}

/** Who is calling. */
export type Actor =
  | { type: 'user'; userId: string; email: string; isSuperAdmin: boolean }
  | { type: 'api_key'; keyId: string; workspaceId: string; scopes: string[]; label: string }
  | { type: 'system'; label: string };

/** An AppContext for one call, with the caller and where the call came from (for the audit log). */
export interface RequestContext extends AppContext {
  actor: Actor;
  ip?: string | undefined;
  requestId?: string | undefined;
}

/** The actor of a signed-in user. */
export function userActor(user: { id: string; email: string; isSuperAdmin: boolean }): Actor {
  return { type: 'user', userId: user.id, email: user.email, isSuperAdmin: user.isSuperAdmin };
}

export function systemContext(ctx: AppContext, label = 'system'): RequestContext {
  return { ...ctx, actor: { type: 'system', label } };
}
