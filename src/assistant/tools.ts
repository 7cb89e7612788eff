import { z } from 'zod';
import type { AppContext } from '../context.ts';
import {
  createPriceAlert,
  findProductBySku,
  getProduct,
  type Product,
  searchProducts,
} from '../features/catalog/service.ts';
import { searchKnowledge } from '../features/knowledge/search.ts';
import type { ResponderInput } from '../pipeline/simple-responder.ts';
import { AppError } from '../platform/errors.ts';
import type { ChatCompletionTool } from './llm/index.ts';
import { trackSearch, trackView } from './offline.ts';

/**
 * The tools the LLM may call. Each has a zod schema for its arguments — the JSON schema the
 * model sees is generated from it — and runs against the workspace's own data. Whatever a tool
 * finds that the customer should see (product cards, an escalation) is collected in the
 * `ToolState`; the model only gets a compact JSON summary.
 */

export interface ToolState {
  ctx: AppContext;
  input: ResponderInput;
  /** Products `search_products` returned, in order, without repeats. */
  found: Product[];
  /** Products `get_product` returned. */
  viewed: Product[];
  /** Whether some search said there were more results than it returned. */
  more: boolean;
  escalation?: { reason: string; productId?: string };
}

export class ToolArgumentError extends Error {}

const id = z.string().trim().min(1).max(100);

const searchProductsArgs = z.strictObject({
  query: z
    .string()
    .trim()
    .max(200)
    .optional()
    .describe('Words to look for: product type, name, material, colour'),
  category: z.string().trim().max(100).optional().describe('One of the catalog categories, exactly'),
  price_min: z.number().nonnegative().optional().describe('Lowest price, in the shop currency'),
  price_max: z.number().nonnegative().optional().describe('Highest price, in the shop currency'),
  available_only: z.boolean().optional().describe('Only products in stock'),
  limit: z.number().int().min(1).max(10).optional().describe('How many results (default 5)'),
});

const getProductArgs = z
  .strictObject({
    product_id: id.optional().describe('The product_id from search_products'),
    sku: id.optional().describe('The article number (SKU), e.g. SOFA-001'),
  })
  .refine((args) => args.product_id !== undefined || args.sku !== undefined, 'give product_id or sku');

const searchKnowledgeArgs = z.strictObject({
  query: z.string().trim().min(1).max(500).describe('The question, in the customer’s words'),
});

const escalateArgs = z.strictObject({
  reason: z.string().trim().min(1).max(500).describe('Why a person should take over, in one sentence'),
  product_id: id.optional().describe('The product the conversation is about, if any'),
});

const priceAlertArgs = z.strictObject({
  product_id: id.describe('The product_id from search_products or get_product'),
  target_price: z.number().positive().describe('Notify when the price is at or below this'),
});

interface ToolDefinition<S extends z.ZodType> {
  description: string;
  schema: S;
  run: (state: ToolState, args: z.output<S>) => Promise<unknown>;
}

function defineTool<S extends z.ZodType>(definition: ToolDefinition<S>) {
  return {
    ...definition,
    execute: (state: ToolState, raw: unknown) => {
      const parsed = definition.schema.safeParse(raw);
      if (!parsed.success) throw new ToolArgumentError(z.prettifyError(parsed.error));
      return definition.run(state, parsed.data);
    },
  };
}

export const TOOLS = {
  search_products: defineTool({
    description:
      'Search the shop catalog. Use it for any question about products, prices or availability. The customer is shown the products found as cards with photos and buttons, right after your answer.',
    schema: searchProductsArgs,
    run: async (state, args) => {
      const { ctx, input } = state;
      const limit = args.limit ?? 5;
      const result = await searchProducts(ctx, input.scope.workspaceId, {
        ...(args.query ? { q: args.query } : {}),
        ...(args.category ? { category: args.category } : {}),
        ...(args.price_min !== undefined ? { priceMin: args.price_min } : {}),
        ...(args.price_max !== undefined ? { priceMax: args.price_max } : {}),
        ...(args.available_only ? { available: true } : {}),
        limit,
      });
      for (const item of result.items) {
        if (!state.found.some((product) => product.id === item.id)) state.found.push(item);
      }
      if (result.nextCursor) state.more = true;
      trackSearch(ctx, input, args.query ?? args.category ?? '', result.items.length, 'llm');
      return {
        results: result.items.map((item) => summary(item, 200)),
        more_available: result.nextCursor !== null,
      };
    },
  }),
  get_product: defineTool({
    description: 'Full details of one product by its product_id or SKU.',
    schema: getProductArgs,
    run: async (state, args) => {
      const { ctx, input } = state;
      const product =
        (args.product_id ? await getProduct(ctx, input.scope.workspaceId, args.product_id) : null) ??
        (args.sku ? await findProductBySku(ctx, input.scope.workspaceId, args.sku) : null);
      if (!product) return { error: 'no such product' };
      if (!state.viewed.some((viewed) => viewed.id === product.id)) state.viewed.push(product);
      trackView(ctx, input, product);
      return { ...summary(product, 2000), attributes: product.attributes };
    },
  }),
  search_knowledge: defineTool({
    description:
      'Search the shop’s knowledge base (delivery, payment, returns, warranty, contacts, policies). Answer only from the passages returned.',
    schema: searchKnowledgeArgs,
    run: async (state, args) => {
      const { ctx, input } = state;
      const result = await searchKnowledge(ctx, input.scope.workspaceId, args.query, { limit: 4 });
      trackSearch(ctx, input, args.query, result.hits.length, 'llm');
      return {
        passages: result.hits.map((hit) => ({ title: hit.title, text: hit.text, score: hit.score })),
      };
    },
  }),
  escalate_to_human: defineTool({
    description:
      'Hand the conversation over to a person (a manager). Use it when the customer asks for a person, is upset, or needs something only staff can do.',
    schema: escalateArgs,
    run: async (state, args) => {
      const product = args.product_id
        ? await getProduct(state.ctx, state.input.scope.workspaceId, args.product_id)
        : null;
      state.escalation = { reason: args.reason, ...(product ? { productId: product.id } : {}) };
      return {
        ok: true,
        note: 'A manager has been asked to take over; tell the customer they will answer here.',
      };
    },
  }),
  create_price_alert: defineTool({
    description:
      'Notify the customer once when a product’s price drops to target_price or below. Confirm the product and target with the customer in your answer.',
    schema: priceAlertArgs,
    run: async (state, args) => {
      const { ctx, input } = state;
      const product = await getProduct(ctx, input.scope.workspaceId, args.product_id);
      if (!product) return { error: 'no such product; use a product_id from search_products' };
      try {
        const { alert, created } = await createPriceAlert(ctx, {
          workspaceId: input.scope.workspaceId,
          contactId: input.scope.contactId,
          conversationId: input.scope.conversationId,
          productId: product.id,
          targetPrice: args.target_price,
        });
        return {
          ok: true,
          created,
          target_price: alert.targetPrice,
          current_price: product.price,
          currency: product.currency,
        };
      } catch (error) {
        if (error instanceof AppError) return { error: error.message };
        throw error;
      }
    },
  }),
};

export type ToolName = keyof typeof TOOLS;

function isToolName(name: string): name is ToolName {
  return Object.hasOwn(TOOLS, name);
}

/** The tools in the OpenAI format, with JSON schemas generated from the zod schemas. */
export const TOOL_DEFINITIONS: ChatCompletionTool[] = Object.entries(TOOLS).map(([name, tool]) => {
  const { $schema: _, ...parameters } = z.toJSONSchema(tool.schema, { io: 'input', unrepresentable: 'any' });
  return { type: 'function', function: { name, description: tool.description, parameters } };
});

/**
 * Runs one tool call and returns the tool message content: the result as JSON, or an error
 * the model can correct (malformed JSON, arguments failing the schema, an unknown tool). Only
 * infrastructure failures (the database down) throw.
 */
export async function runTool(state: ToolState, name: string, rawArguments: string): Promise<string> {
  if (!isToolName(name)) {
    return JSON.stringify({ error: `unknown tool "${name}"; available: ${Object.keys(TOOLS).join(', ')}` });
  }
  let args: unknown;
  try {
    args = rawArguments.trim() === '' ? {} : JSON.parse(rawArguments);
  } catch {
    return JSON.stringify({
      error: 'the arguments are not valid JSON; call the tool again with a JSON object',
    });
  }
  try {
    const result = await TOOLS[name].execute(state, args);
    return truncate(JSON.stringify(result));
  } catch (error) {
    if (error instanceof ToolArgumentError) {
      return JSON.stringify({ error: `invalid arguments: ${error.message}` });
    }
    throw error;
  }
}

function summary(product: Product, descriptionChars: number) {
  return {
    product_id: product.id,
    sku: product.sku,
    name: product.name,
    price: product.price,
    currency: product.currency,
    category: product.category,
    available: product.available,
    description: product.description?.slice(0, descriptionChars) ?? null,
  };
}

// Keeps one tool result from filling the model's context.
const MAX_RESULT_CHARS = 12_000;

function truncate(json: string): string {
  return json.length <= MAX_RESULT_CHARS ? json : `${json.slice(0, MAX_RESULT_CHARS)}… (truncated)`;
}
