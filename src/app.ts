import type { AppContext } from './context.ts';
import { createAccessCheck } from './features/access/check-access.ts';
import { startAnalyticsJobs } from './features/analytics/jobs.ts';
import { registerAnalyticsRoutes } from './features/analytics/routes.ts';
import { registerApiKeyRoutes } from './features/api-keys/routes.ts';
import { registerAuditRoutes } from './features/audit/routes.ts';
import { registerBotRoutes } from './features/bots/routes.ts';
import { registerCatalogRoutes } from './features/catalog/routes.ts';
import { registerChannelRoutes } from './features/channels/routes.ts';
import { registerConversationRoutes } from './features/conversations/routes.ts';
import { registerEscalationRoutes } from './features/escalations/routes.ts';
import { registerHandoffRoutes } from './features/handoff/routes.ts';
import { registerIdentityRoutes } from './features/identity/routes.ts';
import { registerKnowledgeRoutes } from './features/knowledge/routes.ts';
import { registerLlmRoutes } from './features/llm/routes.ts';
import { registerOperatorRoutes } from './features/operators/routes.ts';
import { registerRealtimeRoutes } from './features/realtime/routes.ts';
import { registerSystemPages } from './features/system/pages.ts';
import { registerSystemRoutes } from './features/system/routes.ts';
import { registerWorkspaceRoutes } from './features/workspaces/routes.ts';
import { type Pipeline, startPipeline } from './pipeline/index.ts';
import { registerPipelineRoutes } from './pipeline/routes.ts';
import { type App, createServer } from './platform/http/create-server.ts';

/**
 * Builds the HTTP app on a ready context without listening: `main.ts` listens, tests call it
 * through `inject` or a real port.
 */
export interface BuildAppOptions {
  /** Run the background workers (queues) in this process: roles `worker` and `all`. */
  work?: boolean;
  /** A pipeline started by the caller (main.ts shares it with the Telegram poller). */
  pipeline?: Pipeline;
}

export async function buildApp(ctx: AppContext, options: BuildAppOptions = {}): Promise<App> {
  const app = await createServer({
    logger: ctx.logger,
    metrics: ctx.metrics,
    bodyLimit: ctx.config.BODY_LIMIT_BYTES,
    corsOrigins: ctx.config.CORS_ORIGINS,
    checkAccess: createAccessCheck(ctx),
    version: ctx.version,
    publicUrl: ctx.config.PUBLIC_URL,
  });
  registerSystemRoutes(app, ctx);
  registerSystemPages(app);
  registerIdentityRoutes(app, ctx);
  registerWorkspaceRoutes(app, ctx);
  registerApiKeyRoutes(app, ctx);
  registerAuditRoutes(app, ctx);
  registerConversationRoutes(app, ctx);
  registerBotRoutes(app, ctx);
  registerChannelRoutes(app, ctx);
  registerLlmRoutes(app, ctx);
  registerCatalogRoutes(app, ctx);
  registerKnowledgeRoutes(app, ctx);
  registerEscalationRoutes(app, ctx);
  registerHandoffRoutes(app, ctx);
  registerOperatorRoutes(app, ctx);
  registerRealtimeRoutes(app, ctx);
  registerAnalyticsRoutes(app, ctx);
  if (options.work ?? true) await startAnalyticsJobs(ctx);
  const pipeline = options.pipeline ?? (await startPipeline(ctx, { work: options.work ?? true }));
  registerPipelineRoutes(app, ctx, pipeline);
  // After in-flight requests: the loops finish the work they hold before the ports close.
  app.addHook('onClose', () => pipeline.stop());
  await app.ready();
  return app;
}
