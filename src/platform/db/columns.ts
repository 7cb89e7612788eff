import { timestamp, uuid } from 'drizzle-orm/pg-core';
import { v7 as uuidv7 } from 'uuid';

/**
 * Shared column builders. Ids are UUIDv7: time-ordered, so (created_at, id) cursors and
 * B-tree inserts stay cheap, and generated in the app so a row's id is known before insert.
 */
export const idColumn = () =>
  uuid('id')
    .primaryKey()
    .$defaultFn(() => uuidv7());

export const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const updatedAt = () =>
  timestamp('updated_at', { withTimezone: true })
    .notNull()
    .defaultNow()
    .$onUpdateFn(() => new Date());

export const ts = (name: string) => timestamp(name, { withTimezone: true });

export { uuidv7 };
