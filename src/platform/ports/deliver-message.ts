import { decodeJson } from './json-codec.ts';
import type { PortsLogger } from './ports-logger.ts';

/**
 * Hands one message to one subscriber. Each handler gets its own decoded copy (as with Redis, where
 * nothing is shared), and a throwing or rejecting handler is logged instead of breaking delivery to
 * the others or crashing the process from inside an event callback.
 */
export function deliverMessage(
  handler: (message: unknown) => void,
  text: string,
  channel: string,
  logger: PortsLogger,
): void {
  try {
    // The handler type says void, but an async function fits it; catch its rejection too.
    const result: unknown = handler(decodeJson<unknown>(text));
    if (result instanceof Promise) {
      result.catch((err: unknown) => logger.error({ err, channel }, 'pubsub handler failed'));
    }
  } catch (err) {
    logger.error({ err, channel }, 'pubsub handler failed');
  }
}
