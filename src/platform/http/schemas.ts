import { z } from 'zod';

/**
 * Zod building blocks shared by every route, so the OpenAPI document names things one way.
 */

/** Timestamps cross the wire as ISO 8601 strings and are `Date` inside. */
export const dateTime = z.codec(z.iso.datetime({ offset: true }), z.date(), {
  decode: (value) => new Date(value),
  encode: (value) => value.toISOString(),
});

export const idParam = z.uuid();

export const errorBody = z
  .object({
    error: z.object({
      code: z.string().describe('Stable machine-readable code, see src/platform/errors.ts'),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });

/** Cursor pagination: `?limit=&cursor=`; responses carry `nextCursor` (null on the last page). */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

/** Error responses every authenticated route may give, for the OpenAPI document. */
export const commonErrors = {
  400: errorBody,
  401: errorBody,
  403: errorBody,
  404: errorBody,
  409: errorBody,
  429: errorBody,
} as const;

export const okBody = z.object({ ok: z.literal(true) });
