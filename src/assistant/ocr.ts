import { createRequire } from 'node:module';
import path from 'node:path';
import { createWorker, OEM, type Worker } from 'tesseract.js';
import type { AppContext } from '../context.ts';
import type { Database } from '../platform/db/index.ts';

/**
 * OCR of customers' photos with tesseract.js, entirely offline: the English LSTM model comes
 * from the installed `@tesseract.js-data/eng` package and the WebAssembly core from
 * `tesseract.js-core`, so nothing is downloaded or cached at run time.
 *
 * One worker per app instance, created on first use and kept warm (loading the model takes
 * about a second); recognitions run one at a time through it. It is terminated after ten idle
 * minutes, on `closeOcr`, or after a recognition that timed out (the next call starts afresh).
 */
export interface OcrEngine {
  /** The text in the image (PNG, JPEG, WebP, BMP). */
  recognize(image: Buffer): Promise<string>;
  close(): Promise<void>;
}

/** Photos larger than this are not read (Telegram's photos are far smaller). */
export const MAX_OCR_BYTES = 10 * 1024 * 1024;
const TIMEOUT_MS = 30_000;
const IDLE_MS = 10 * 60_000;

const require = createRequire(import.meta.url);
// The "best_int" model: LSTM only, a third of the size of the default, as accurate on print.
const LANG_PATH = path.join(
  path.dirname(require.resolve('@tesseract.js-data/eng/package.json')),
  '4.0.0_best_int',
);

const engines = new WeakMap<Database, OcrEngine>();

/** The OCR engine of the app `ctx` belongs to. */
export function ocrEngine(ctx: AppContext): OcrEngine {
  let engine = engines.get(ctx.database);
  if (!engine) {
    engine = createOcrEngine(ctx.logger);
    engines.set(ctx.database, engine);
  }
  return engine;
}

/** Terminates the app's OCR worker, if one was started (called on shutdown). */
export async function closeOcr(ctx: AppContext): Promise<void> {
  const engine = engines.get(ctx.database);
  engines.delete(ctx.database);
  await engine?.close();
}

export function createOcrEngine(logger: Pick<AppContext['logger'], 'warn'>): OcrEngine {
  let worker: Promise<Worker> | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let idle: NodeJS.Timeout | undefined;

  const terminate = async () => {
    const current = worker;
    worker = undefined;
    if (idle) clearTimeout(idle);
    if (!current) return;
    try {
      await (await current).terminate();
    } catch (error) {
      logger.warn({ err: error }, 'ocr: terminating the worker failed');
    }
  };

  const start = () => {
    worker ??= createWorker('eng', OEM.LSTM_ONLY, {
      langPath: LANG_PATH,
      gzip: true,
      cacheMethod: 'none',
    });
    // A failed start is not remembered: the next photo tries again.
    worker.catch(() => {
      worker = undefined;
    });
    return worker;
  };

  const recognize = async (image: Buffer): Promise<string> => {
    if (idle) clearTimeout(idle);
    const current = await start();
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        current.recognize(image),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`OCR took longer than ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
        }),
      ]);
      return result.data.text;
    } catch (error) {
      await terminate();
      throw error;
    } finally {
      clearTimeout(timer);
      idle = setTimeout(() => void terminate(), IDLE_MS);
      idle.unref();
    }
  };

  return {
    recognize: (image) => {
      if (image.length > MAX_OCR_BYTES) return Promise.reject(new Error('image too large for OCR'));
      const next = queue.then(() => recognize(image));
      queue = next.catch(() => undefined);
      return next;
    },
    close: async () => {
      await queue;
      await terminate();
    },
  };
}
