import type { Counter, Histogram } from 'prom-client';
import type { Metrics } from '../platform/metrics.ts';

/** The assistant's Prometheus metrics, registered once per app instance. */
export interface AssistantMetrics {
  /** Answers by path (llm, offline) and what answered (text, photo, voice, button). */
  answers: Counter<'path' | 'input'>;
  /** Messages answered offline although the LLM was wanted: none configured, or it failed. */
  offlineFallbacks: Counter<'reason'>;
  /** Seconds from a customer's message to the assistant's actions, by path. */
  duration: Histogram<'path'>;
  ocrDuration: Histogram<'outcome'>;
}

const registered = new WeakMap<Metrics, AssistantMetrics>();

export function assistantMetrics(metrics: Metrics): AssistantMetrics {
  let found = registered.get(metrics);
  if (!found) {
    found = {
      answers: metrics.counter(
        'switchboard_assistant_answers_total',
        'Assistant answers by path and input kind',
        ['path', 'input'],
      ),
      offlineFallbacks: metrics.counter(
        'switchboard_assistant_offline_fallbacks_total',
        'Messages answered by the offline responder instead of the LLM, by reason (none, unavailable, refused, exhausted)',
        ['reason'],
      ),
      duration: metrics.histogram(
        'switchboard_assistant_answer_duration_seconds',
        'Time the assistant took to decide an answer, by path',
        ['path'],
        [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      ),
      ocrDuration: metrics.histogram(
        'switchboard_assistant_ocr_duration_seconds',
        'OCR time per photo, by outcome',
        ['outcome'],
        [0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      ),
    };
    registered.set(metrics, found);
  }
  return found;
}
