import { z } from 'zod';
import { AppError } from '../errors.ts';

/**
 * Opaque keyset cursors over (created_at, id): stable under inserts, O(log n) per page at
 * any depth, unlike OFFSET.
 */
const cursorSchema = z.object({ t: z.iso.datetime({ offset: true }), id: z.uuid() });

export interface Cursor {
  createdAt: Date;
  id: string;
}

export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify({ t: row.createdAt.toISOString(), id: row.id })).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): Cursor | undefined {
  if (!cursor) return undefined;
  try {
    const parsed = cursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return { createdAt: new Date(parsed.t), id: parsed.id };
  } catch (cause) {
    throw new AppError('BAD_REQUEST', { message: 'invalid cursor', cause });
  }
}

/** Given `limit + 1` rows, returns the page and the cursor of the next one. */
export function toPage<T extends { createdAt: Date; id: string }>(rows: T[], limit: number) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}
