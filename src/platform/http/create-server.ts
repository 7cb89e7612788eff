import { randomUUID } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyCors from '@fastify/cors';
import fastifyHelmet from '@fastify/helmet';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  isResponseSerializationError,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { AppError, codeOfStatus, type ErrorCode, isAppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';

/**
 * What a route may be called by. Every route declares one in `config.access`; a route
 * without it fails at start-up, so "forgot the auth check" cannot ship.
 * - `public`: anyone (login, webhooks with their own signature check, health).
 * - `user`: any signed-in user (or API key where `apiKey` allows).
 * - `{ role }`: a member of the `:ws` workspace in the URL with at least this role (an API
 *   key of that workspace counts as a member with the role of its scopes unless `apiKeys: false`).
 */
export type RouteAccess =
  | 'public'
  | 'user'
  | {
      role: 'viewer' | 'operator' | 'admin' | 'owner';
      /** `false` for what only a person can do (e.g. leave); API keys then get 403. */
      apiKeys?: false;
    };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
    /**
     * A channel's webhook, authenticated by its own secret or signature. API-wide refusals —
     * per-IP rate limits, billing refusals, body rules — must let it through: the channel
     * redelivers a refused update and holds every later one of the bot behind it.
     */
    channelWebhook?: boolean;
  }
  interface FastifyInstance {
    /** Every product route with its declared access (the authorization matrix test walks it). */
    routeTable: RouteEntry[];
  }
}

export interface RouteEntry {
  method: string;
  url: string;
  access: RouteAccess;
  hasBody: boolean;
}

export type AccessCheck = (request: FastifyRequest, access: RouteAccess) => Promise<void>;

export interface ServerOptions {
  logger: Logger;
  metrics: Metrics;
  bodyLimit: number;
  corsOrigins: string[];
  /** Runs for every request before validation; throws AppError to refuse. */
  checkAccess: AccessCheck;
  version: string;
  publicUrl?: string | undefined;
}

export type App = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  Logger,
  ZodTypeProvider
>;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Fastify with the cross-cutting plugins registered in this order (Fastify's encapsulation
 * makes the order the contract):
 * 1. request id (accepted from `x-request-id` when well-formed, echoed in the response)
 * 2. helmet (security headers), CORS allow-list, cookies
 * 3. access check (onRequest: before body parsing, so a refused caller costs nothing)
 * 4. OpenAPI document at /api/openapi.json and docs at /api/docs
 * 5. one error shape for every 4xx/5xx, metrics per route template
 */
export async function createServer(options: ServerOptions): Promise<App> {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit,
    // No `requestIdHeader`: with it Fastify takes the header as is and never calls genReqId,
    // so a malformed id would be logged and echoed unchecked.
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    trustProxy: true,
    ajv: { customOptions: { removeAdditional: false } },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Errors the router raises before any route matches (bad percent-encoding, over-long
    // parameter) get the one error shape too.
    frameworkErrors: (error, request, reply) => sendError(error, request, reply),
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  await app.register(fastifyHelmet, {
    // The docs page and the admin panel load their own scripts and styles from this origin.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", "'unsafe-inline'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:', 'https:'],
        connectSrc: ["'self'"],
      },
    },
  });
  await app.register(fastifyCors, {
    origin: options.corsOrigins.length > 0 ? options.corsOrigins : false,
    credentials: true,
  });
  await app.register(fastifyCookie);

  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    if (access !== undefined) await options.checkAccess(request, access);
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Switchboard API',
        version: options.version,
        description:
          'Self-hosted platform for AI customer-conversation bots. Authenticate with `Authorization: Bearer <access token>` (from /api/auth/login) or an API key.',
      },
      servers: options.publicUrl ? [{ url: options.publicUrl }] : [],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT or sb_ API key' },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/api/docs' });

  // From here on every route is the product's own and must say who may call it (the plugins
  // above add their own: CORS preflight, the docs page's assets).
  const routeTable: RouteEntry[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    if (access === undefined) {
      throw new Error(`route ${route.method} ${route.url} declares no access (config.access)`);
    }
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      routeTable.push({ method, url: route.url, access, hasBody: route.schema?.body !== undefined });
    }
  });
  app.get('/api/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () =>
    app.swagger(),
  );

  app.setErrorHandler((error, request, reply) => sendError(error, request, reply));
  app.setNotFoundHandler({}, (request, reply) => {
    void reply.code(404).send({
      error: {
        code: 'NOT_FOUND',
        message: `Route ${request.method} ${request.url.split('?')[0]} not found`,
      },
    });
  });

  app.addHook('onResponse', async (request, reply) => {
    options.metrics.httpDuration
      .labels(request.method, request.routeOptions.url ?? 'unmatched', String(reply.statusCode))
      .observe(reply.elapsedTime / 1000);
  });

  return app;
}

function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const { status, body } = toErrorResponse(error);
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ code: body.error.code, status }, body.error.message);
  if (status === 429 && isAppError(error)) {
    const retry = retryAfterOf(error.details);
    if (retry !== undefined) void reply.header('retry-after', String(retry));
  }
  return reply.code(status).send(body);
}

function retryAfterOf(details: unknown): number | undefined {
  if (typeof details === 'object' && details !== null && 'retryAfterSeconds' in details) {
    const value = details.retryAfterSeconds;
    return typeof value === 'number' ? value : undefined;
  }
  return undefined;
}

interface ErrorResponse {
  status: number;
  body: { error: { code: ErrorCode; message: string; details?: unknown } };
}

/** Maps anything thrown to the one error shape; the single place statuses are decided. */
export function toErrorResponse(error: unknown): ErrorResponse {
  if (isAppError(error)) {
    return {
      status: error.status,
      body: {
        error: {
          code: error.code,
          message: error.message,
          ...(error.details === undefined ? {} : { details: error.details }),
        },
      },
    };
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    return {
      status: 400,
      body: {
        error: {
          code: 'VALIDATION_ERROR',
          message: `Invalid ${error.validationContext ?? 'request'}: ${error.validation
            .map((issue) => `${issue.instancePath || '/'} ${issue.message}`)
            .join('; ')}`,
          details: error.validation.map((issue) => ({
            in: error.validationContext,
            path: issue.instancePath,
            message: issue.message,
          })),
        },
      },
    };
  }
  if (isResponseSerializationError(error)) {
    return {
      status: 500,
      body: { error: { code: 'INTERNAL', message: 'Response did not match its schema' } },
    };
  }
  const pgCode = postgresCode(error);
  if (pgCode === '23505') return conflict('Already exists');
  if (pgCode === '23503') return conflict('Refers to something that does not exist');
  // Text PostgreSQL cannot store: NUL characters (22021 in text columns, 22P05 in jsonb).
  // Only input carries them, so it is the caller's error; the transaction rolled back.
  if (pgCode === '22021' || pgCode === '22P05') {
    return {
      status: 400,
      body: { error: { code: 'BAD_REQUEST', message: 'Text must not contain NUL (\\u0000) characters' } },
    };
  }
  const fastifyStatus = statusCodeOf(error);
  if (fastifyStatus !== undefined && fastifyStatus >= 400 && fastifyStatus < 500) {
    const message = error instanceof Error ? error.message : 'Bad request';
    const code: ErrorCode = error instanceof SyntaxError ? 'BAD_REQUEST' : codeOfStatus(fastifyStatus);
    return { status: fastifyStatus, body: { error: { code, message } } };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'Internal server error' } } };
}

function conflict(message: string): ErrorResponse {
  return { status: 409, body: { error: { code: 'CONFLICT', message } } };
}

function postgresCode(error: unknown): string | undefined {
  // Drizzle wraps driver errors; the SQLSTATE sits on the error or its cause.
  for (let current = error, depth = 0; current && depth < 4; depth++) {
    if (typeof current === 'object' && 'code' in current && typeof current.code === 'string') {
      if (/^[0-9A-Z]{5}$/.test(current.code)) return current.code;
    }
    current = current instanceof Error ? current.cause : undefined;
  }
  return undefined;
}

function statusCodeOf(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'statusCode' in error) {
    const value = error.statusCode;
    return typeof value === 'number' ? value : undefined;
  }
  return undefined;
}

export { AppError };
