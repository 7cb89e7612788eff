import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import type { App } from '../../platform/http/create-server.ts';
import { commonErrors } from '../../platform/http/schemas.ts';
import { contextOf } from '../access/check-access.ts';
import { emailSchema, passwordSchema } from '../identity/routes.ts';
import { completeSetup, hasSuperAdmin } from './service.ts';

const checkSchema = z.object({
  ok: z.boolean(),
  latencyMs: z.number(),
  error: z.string().optional(),
  info: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

const healthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    version: z.string(),
    checks: z.record(z.string(), checkSchema),
  })
  .meta({ id: 'Health' });

/** /health, /metrics and first-run setup. */
export function registerSystemRoutes(app: App, ctx: AppContext) {
  app.get(
    '/health',
    {
      config: { access: 'public' },
      schema: {
        tags: ['system'],
        summary:
          'Liveness and dependency checks; 200 degraded while a non-critical one (Redis) fails, 503 when a critical one (the database) does',
        response: { 200: healthSchema, 503: healthSchema },
      },
      logLevel: 'warn',
    },
    async (_request, reply) => {
      const result = await ctx.health.run();
      // 503 only when a critical check fails (the instance cannot serve); a failing
      // non-critical one (Redis, queue lag) is 200 `degraded`: it still serves.
      const allPassed = Object.values(result.checks).every((check) => check.ok);
      return reply.code(result.ok ? 200 : 503).send({
        status: result.ok && allPassed ? 'ok' : 'degraded',
        version: ctx.version,
        checks: result.checks,
      });
    },
  );

  app.get(
    '/metrics',
    {
      config: { access: 'public' },
      schema: {
        tags: ['system'],
        summary: 'Prometheus metrics',
        produces: ['text/plain'],
        response: { 200: z.string() },
      },
      logLevel: 'warn',
    },
    async (_request, reply) => {
      const body = await ctx.metrics.registry.metrics();
      return reply.type(ctx.metrics.registry.contentType).send(body);
    },
  );

  app.get(
    '/api/setup',
    {
      config: { access: 'public' },
      schema: {
        tags: ['system'],
        summary: 'Whether first-run setup is still needed',
        response: { 200: z.object({ needed: z.boolean() }) },
      },
    },
    async () => ({ needed: !(await hasSuperAdmin(ctx)) }),
  );

  app.post(
    '/api/setup',
    {
      config: { access: 'public' },
      schema: {
        tags: ['system'],
        summary: 'First-run setup with the token from the server log: creates the owner and a workspace',
        body: z.strictObject({
          token: z.string().min(10).max(200),
          email: emailSchema,
          password: passwordSchema,
          name: z.string().trim().max(120).optional(),
          workspaceName: z.string().trim().min(1).max(120),
        }),
        response: {
          201: z.object({ userId: z.uuid(), workspaceId: z.uuid() }),
          ...commonErrors,
          410: commonErrors[404],
        },
      },
    },
    async (request, reply) => {
      const rc = contextOf(ctx, request);
      const { user, workspace } = await completeSetup(rc, request.body);
      return reply.code(201).send({ userId: user.id, workspaceId: workspace.id });
    },
  );
}
