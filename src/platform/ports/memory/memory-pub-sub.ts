import { EventEmitter } from 'node:events';
import { deliverMessage } from '../deliver-message.ts';
import { encodeJson } from '../json-codec.ts';
import type { PortsLogger } from '../ports-logger.ts';
import type { PubSubPort, Unsubscribe } from '../types.ts';

/** In-process pub/sub: reaches subscribers of this instance only, which is all there is when embedded. */
export class MemoryPubSub implements PubSubPort {
  readonly #emitter = new EventEmitter();
  readonly #logger: PortsLogger;
  #closed = false;

  constructor(options: { logger: PortsLogger }) {
    this.#logger = options.logger;
    // Any number of subscribers per channel is legitimate; the leak warning would be noise.
    this.#emitter.setMaxListeners(0);
  }

  async publish(channel: string, message: unknown): Promise<void> {
    this.#assertOpen();
    const text = encodeJson(message);
    // Deliver after publish returns, as Redis does, so callers never rely on synchronous delivery.
    setImmediate(() => this.#emitter.emit(channel, text));
  }

  async subscribe(channel: string, handler: (message: unknown) => void): Promise<Unsubscribe> {
    this.#assertOpen();
    // A fresh listener per subscription, so subscribing one handler twice unsubscribes independently.
    const listener = (text: string) => deliverMessage(handler, text, channel, this.#logger);
    this.#emitter.on(channel, listener);
    return async () => {
      this.#emitter.off(channel, listener);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#emitter.removeAllListeners();
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('pubsub is closed');
  }
}
