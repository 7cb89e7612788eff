import { and, desc, eq, isNotNull, sql } from 'drizzle-orm';
import type { AppContext } from '../context.ts';
import { products } from '../features/catalog/schema.ts';
import { workspaceCurrency } from '../features/catalog/service.ts';
import { workspaces } from '../features/workspaces/schema.ts';
import type { Database } from '../platform/db/index.ts';
import { isSameStem, wordsOf } from './intent.ts';

/**
 * What the assistant knows about a shop before searching: its name and currency, its
 * catalog's categories, and the words its product names use (how the offline responder tells
 * "leather sofa" from "how long is delivery"). Cached per instance for a minute: a product
 * added a moment ago is still found by search, only its words join the vocabulary a bit later.
 */
export interface ShopContext {
  name: string;
  currency: string;
  /** Categories by number of products, most first (at most 50). */
  categories: string[];
  /** Distinct words (3+ letters) of recent product names and of the categories. */
  words: Set<string>;
}

const TTL_MS = 60_000;
const NAME_SAMPLE = 2000;
const caches = new WeakMap<Database, Map<string, { at: number; value: Promise<ShopContext> }>>();

export function shopContext(ctx: AppContext, workspaceId: string): Promise<ShopContext> {
  let cache = caches.get(ctx.database);
  if (!cache) {
    cache = new Map();
    caches.set(ctx.database, cache);
  }
  const cached = cache.get(workspaceId);
  if (cached && Date.now() - cached.at < TTL_MS) return cached.value;
  const value = loadShopContext(ctx, workspaceId);
  cache.set(workspaceId, { at: Date.now(), value });
  value.catch(() => cache.delete(workspaceId));
  return value;
}

async function loadShopContext(ctx: AppContext, workspaceId: string): Promise<ShopContext> {
  const [workspace] = await ctx.db
    .select({ name: workspaces.name })
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId));
  const currency = await workspaceCurrency(ctx.db, workspaceId);
  const categoryRows = await ctx.db
    .select({ category: products.category, count: sql<number>`count(*)::int` })
    .from(products)
    .where(and(eq(products.workspaceId, workspaceId), isNotNull(products.category)))
    .groupBy(products.category)
    .orderBy(desc(sql`count(*)`))
    .limit(50);
  const names = await ctx.db
    .select({ name: products.name })
    .from(products)
    .where(eq(products.workspaceId, workspaceId))
    .orderBy(desc(products.updatedAt))
    .limit(NAME_SAMPLE);
  const categories = categoryRows.flatMap((row) => (row.category ? [row.category] : []));
  const words = new Set<string>();
  for (const text of [...names.map((row) => row.name), ...categories]) {
    for (const word of wordsOf(text)) if (word.length >= 3 && !/\d/.test(word)) words.add(word);
  }
  return { name: workspace?.name ?? '', currency, categories, words };
}

export interface CatalogTerms {
  /** Words of the message the catalog's product names or categories use. */
  nouns: string[];
  /** A category one of them names, and that word. */
  category?: string;
  categoryWord?: string;
}

/** The message's words that name things the catalog has, and the category one of them names. */
export function catalogTerms(shop: ShopContext, words: string[]): CatalogTerms {
  const nouns = words.filter(
    (word) =>
      word.length >= 3 && (shop.words.has(word) || [...shop.words].some((known) => isSameStem(word, known))),
  );
  for (const word of nouns) {
    const category = shop.categories.find((name) => isSameStem(word, name.toLowerCase()));
    if (category) return { nouns, category, categoryWord: word };
  }
  return { nouns };
}
