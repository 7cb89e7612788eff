import { type SQL, sql } from 'drizzle-orm';
import {
  boolean,
  check,
  customType,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { createdAt, idColumn, ts, updatedAt } from '../../platform/db/columns.ts';
import { contacts, conversations } from '../conversations/schema.ts';
import { workspaces } from '../workspaces/schema.ts';

/** PostgreSQL full-text document; only ever written by the database (generated column). */
const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

/** Raw bytes: Buffer on node-postgres, Uint8Array on PGlite. */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
});

/** Money with cents, read as a JS number (prices stay far below 2^53 cents). */
const money = (name: string) => numeric(name, { precision: 14, scale: 2, mode: 'number' });

/**
 * The text a product is found by. The `russian` configuration stems Cyrillic words with the
 * Russian Snowball stemmer and ASCII words with the English one, so "диваны" finds "диван"
 * and "sofas" finds "sofa" from one column; the `simple` part keeps exact, unstemmed words
 * (brand names the stemmers would mangle). The SKU goes in as its words with the punctuation
 * taken out: the parser reads "BN-004242" as the word "bn" and the signed number "-004242",
 * which a search for "004242" would never match.
 */
const searchDocument: SQL = sql`setweight(to_tsvector('russian'::regconfig, coalesce(name, '')), 'A')
  || setweight(to_tsvector('simple'::regconfig, coalesce(name, '') || ' ' || regexp_replace(sku, '[^[:alnum:]]+', ' ', 'g')), 'A')
  || setweight(to_tsvector('russian'::regconfig, coalesce(category, '')), 'B')
  || setweight(to_tsvector('russian'::regconfig, coalesce(description, '')), 'C')`;

/** A product of a workspace's catalog: what the assistant searches and the panel edits. */
export const products = pgTable(
  'products',
  {
    id: idColumn(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    /** Stock keeping unit: unique per workspace ignoring case (`sofa-001` is `SOFA-001`). */
    sku: text('sku').notNull(),
    name: text('name').notNull(),
    description: text('description'),
    price: money('price').notNull(),
    /** ISO 4217; the workspace's currency unless given. */
    currency: text('currency').notNull(),
    category: text('category'),
    /** Absolute (or, without PUBLIC_URL, root-relative) URL of the product photo. */
    imageUrl: text('image_url'),
    available: boolean('available').notNull().default(true),
    attributes: jsonb('attributes').$type<Record<string, unknown>>().notNull().default({}),
    /** When the price last changed (creation counts). */
    priceChangedAt: ts('price_changed_at').notNull().defaultNow(),
    searchVector: tsvector('search_vector').generatedAlwaysAs(searchDocument),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('products_workspace_sku_key').on(t.workspaceId, sql`lower(${t.sku})`),
    index('products_workspace_created_idx').on(t.workspaceId, t.createdAt, t.id),
    index('products_workspace_category_idx').on(t.workspaceId, sql`lower(${t.category})`),
    index('products_workspace_price_idx').on(t.workspaceId, t.price),
    index('products_search_idx').using('gin', t.searchVector),
    index('products_name_trgm_idx').using('gin', sql`${t.name} gin_trgm_ops`),
    index('products_sku_trgm_idx').using('gin', sql`${t.sku} gin_trgm_ops`),
    check('products_price_check', sql`${t.price} >= 0`),
  ],
);

/**
 * The words of a workspace's product names and categories, for typo tolerance: a misspelt
 * query word is matched by trigram similarity against this small vocabulary (the pg_trgm
 * documentation's recipe) and the close words join the full-text query, instead of comparing
 * the query with every product name. Never pruned: a word no product uses any more matches
 * nothing in the full-text step.
 */
export const productTerms = pgTable(
  'product_terms',
  {
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    term: text('term').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.term] }),
    index('product_terms_trgm_idx').using('gin', sql`${t.term} gin_trgm_ops`),
  ],
);

export type PriceSource = 'api' | 'import';

/** Every price a product had: one row at creation (old price null) and one per change. */
export const productPriceHistory = pgTable(
  'product_price_history',
  {
    id: idColumn(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    oldPrice: money('old_price'),
    newPrice: money('new_price').notNull(),
    currency: text('currency').notNull(),
    source: text('source').$type<PriceSource>().notNull(),
    changedAt: ts('changed_at').notNull().defaultNow(),
  },
  (t) => [
    index('product_price_history_product_idx').on(t.productId, t.changedAt, t.id),
    check('product_price_history_source_check', sql`${t.source} in ('api','import')`),
  ],
);

/**
 * Uploaded product photos, kept in the database so every instance (and a backup) has them.
 * Served publicly at `/media/products/<productId>/<hash>.<ext>`: the content hash in the URL
 * makes it immutable and cacheable forever, and Telegram can fetch it by URL.
 */
export const productImages = pgTable(
  'product_images',
  {
    id: idColumn(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    /** First 32 hex digits of the SHA-256 of the bytes. */
    hash: text('hash').notNull(),
    contentType: text('content_type').notNull(),
    size: integer('size').notNull(),
    data: bytea('data').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('product_images_product_hash_key').on(t.productId, t.hash)],
);

export type PriceAlertStatus = 'active' | 'fired' | 'cancelled';

/**
 * A customer's wish to hear when a product costs at most `targetPrice`. At most one active
 * alert per contact and product; firing is a conditional update (`where status = 'active'`)
 * in the same transaction as the notification's outbox row, so it happens once.
 */
export const priceAlerts = pgTable(
  'price_alerts',
  {
    id: idColumn(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    contactId: uuid('contact_id')
      .notNull()
      .references(() => contacts.id, { onDelete: 'cascade' }),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    targetPrice: money('target_price').notNull(),
    /** The product's price when the alert was set (or last re-targeted). */
    priceAtCreation: money('price_at_creation').notNull(),
    status: text('status').$type<PriceAlertStatus>().notNull().default('active'),
    /** The price that fired it. */
    firedPrice: money('fired_price'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    firedAt: ts('fired_at'),
    cancelledAt: ts('cancelled_at'),
  },
  (t) => [
    uniqueIndex('price_alerts_active_key').on(t.contactId, t.productId).where(sql`status = 'active'`),
    index('price_alerts_active_product_idx').on(t.productId).where(sql`status = 'active'`),
    index('price_alerts_workspace_idx').on(t.workspaceId, t.createdAt, t.id),
    check('price_alerts_status_check', sql`${t.status} in ('active','fired','cancelled')`),
    check('price_alerts_target_check', sql`${t.targetPrice} >= 0`),
  ],
);
