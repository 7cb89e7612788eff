import type { AppContext } from '../context.ts';
import { findProductBySku, searchProducts } from '../features/catalog/service.ts';
import type { ResponderAction, ResponderInput } from '../pipeline/simple-responder.ts';
import { truncateText } from '../platform/text.ts';
import { productCard, productCards } from './cards.ts';
import { type AssistantConfig, compilePattern, say } from './config.ts';
import { findSkus } from './intent.ts';
import { getLlm, LlmRequestError, LlmUnavailableError } from './llm/index.ts';
import { assistantMetrics } from './metrics.ts';
import { MAX_OCR_BYTES, ocrEngine } from './ocr.ts';
import { trackSearch, trackView } from './offline.ts';

const VISION_PROMPT =
  'A customer of a shop sent this photo. Describe the product in it in one short line for a catalog search: what kind of item it is, its colour and material. Reply with the description only; if there is no product, reply "none".';

/**
 * A customer's photo: an article number in the caption or on the photo (OCR) → that product's
 * card; else the vision model's description of it → a catalog search; else the caption as a
 * question; else a request to describe the product in words. What OCR and the vision model
 * read is stored on the inbound message (`annotate_inbound`).
 */
export async function answerPhoto(
  ctx: AppContext,
  input: ResponderInput,
  assistant: AssistantConfig,
  photo: { fileId?: string; caption: string | null },
  answerText: (text: string) => Promise<ResponderAction[]>,
): Promise<ResponderAction[]> {
  const { scope, config, language } = input;
  const annotations: ResponderAction[] = [];
  const pattern = compilePattern(assistant.skuPattern);
  const caption = photo.caption?.trim() ?? '';
  const skus = pattern ? findSkus(caption, pattern) : [];

  const image = photo.fileId ? await download(ctx, input, photo.fileId) : undefined;
  if (image && assistant.ocr && pattern) {
    const text = await readText(ctx, image);
    if (text) {
      annotations.push({ type: 'annotate_inbound', kind: 'ocr', text: truncateText(text, 4000) });
      for (const sku of findSkus(text, pattern, { ocr: true })) if (!skus.includes(sku)) skus.push(sku);
    }
  }
  for (const sku of skus) {
    const product = await findProductBySku(ctx, scope.workspaceId, sku);
    if (!product) continue;
    trackSearch(ctx, input, sku, 1);
    trackView(ctx, input, product);
    return [...annotations, productCard(product, { config, language, full: true })];
  }

  if (caption) return [...annotations, ...(await answerText(caption))];

  if (image && assistant.mode !== 'offline') {
    const description = await describe(ctx, input, image);
    if (description) {
      annotations.push({ type: 'annotate_inbound', kind: 'vision', text: description });
      const found = await searchProducts(ctx, scope.workspaceId, { q: description, limit: 20 });
      trackSearch(ctx, input, description, found.items.length, 'llm');
      if (found.items.length > 0) {
        return [
          ...annotations,
          ...productCards(found.items, {
            config,
            language,
            limit: assistant.productCards,
            more:
              found.items.length > assistant.productCards ? found.items.length - assistant.productCards : 0,
          }),
        ];
      }
    }
  }
  return [...annotations, { type: 'reply', text: say(config, 'photoNotRecognized', language) }];
}

async function download(ctx: AppContext, input: ResponderInput, fileId: string): Promise<Buffer | undefined> {
  try {
    const { data } = await input.downloadFile(fileId);
    if (data.length > MAX_OCR_BYTES) return undefined;
    return data;
  } catch (error) {
    ctx.logger.warn(
      { err: error, conversationId: input.scope.conversationId },
      'assistant: photo download failed',
    );
    return undefined;
  }
}

async function readText(ctx: AppContext, image: Buffer): Promise<string> {
  const started = performance.now();
  const { ocrDuration } = assistantMetrics(ctx.metrics);
  try {
    const text = (await ocrEngine(ctx).recognize(image)).replace(/[ \t]+/g, ' ').trim();
    ocrDuration.observe({ outcome: 'ok' }, (performance.now() - started) / 1000);
    return text;
  } catch (error) {
    ocrDuration.observe({ outcome: 'error' }, (performance.now() - started) / 1000);
    ctx.logger.warn({ err: error }, 'assistant: OCR failed');
    return '';
  }
}

/** What the vision model sees, or undefined without one (or when it failed or saw nothing). */
async function describe(ctx: AppContext, input: ResponderInput, image: Buffer): Promise<string | undefined> {
  const { scope } = input;
  try {
    const llm = await getLlm(ctx, scope.workspaceId);
    if (!llm?.capabilities.vision) return undefined;
    const text = await llm.describeImage({ data: image, mimeType: mimeTypeOf(image) }, VISION_PROMPT, {
      workspaceId: scope.workspaceId,
      botId: scope.botId,
      conversationId: scope.conversationId,
      purpose: 'vision',
    });
    const description = truncateText(text.trim().replace(/\s+/g, ' '), 300);
    return description && !/^none\.?$/i.test(description) ? description : undefined;
  } catch (error) {
    if (!(error instanceof LlmUnavailableError || error instanceof LlmRequestError)) throw error;
    ctx.logger.warn({ err: error, workspaceId: scope.workspaceId }, 'assistant: vision model unavailable');
    return undefined;
  }
}

function mimeTypeOf(image: Buffer): string {
  if (image.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex'))) return 'image/png';
  if (
    image.subarray(0, 4).toString('latin1') === 'RIFF' &&
    image.subarray(8, 12).toString('latin1') === 'WEBP'
  )
    return 'image/webp';
  return 'image/jpeg';
}
