import type { Redis } from 'ioredis';
import { deliverMessage } from '../deliver-message.ts';
import { encodeJson } from '../json-codec.ts';
import type { PortsLogger } from '../ports-logger.ts';
import type { PubSubPort, Unsubscribe } from '../types.ts';
import { closeClient } from './close-client.ts';

type Handler = (message: unknown) => void;

/**
 * Redis pub/sub on channels `<prefix>:ps:<channel>`: one publisher (the shared client) and one
 * subscriber connection, since a connection in subscribe mode cannot run other commands. Each
 * channel is subscribed in Redis once and fanned out to local handlers.
 */
export class RedisPubSub implements PubSubPort {
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #channelPrefix: string;
  readonly #logger: PortsLogger;
  /** Local subscriptions per channel; each entry is its own object so one handler can subscribe twice. */
  readonly #handlers = new Map<string, Set<{ handler: Handler }>>();
  /** The SUBSCRIBE in flight or done per channel, so concurrent subscribers all wait for it. */
  readonly #subscribed = new Map<string, Promise<unknown>>();
  #closing: Promise<void> | undefined;

  constructor(publisher: Redis, options: { prefix: string; logger: PortsLogger }) {
    this.#publisher = publisher;
    this.#subscriber = publisher.duplicate();
    this.#channelPrefix = `${options.prefix}:ps:`;
    this.#logger = options.logger;
    this.#subscriber.on('error', (err) => this.#logger.warn({ err }, 'redis subscriber connection error'));
    this.#subscriber.on('message', (fullChannel: string, text: string) => this.#dispatch(fullChannel, text));
  }

  async publish(channel: string, message: unknown): Promise<void> {
    this.#assertOpen();
    await this.#publisher.publish(this.#channelPrefix + channel, encodeJson(message));
  }

  async subscribe(channel: string, handler: Handler): Promise<Unsubscribe> {
    this.#assertOpen();
    const subscription = { handler };
    let handlers = this.#handlers.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.#handlers.set(channel, handlers);
    }
    handlers.add(subscription);
    let subscribed = this.#subscribed.get(channel);
    if (!subscribed) {
      subscribed = this.#subscriber.subscribe(this.#channelPrefix + channel);
      this.#subscribed.set(channel, subscribed);
    }
    try {
      await subscribed;
    } catch (error) {
      this.#subscribed.delete(channel);
      handlers.delete(subscription);
      throw error;
    }
    return async () => {
      const current = this.#handlers.get(channel);
      if (!current?.delete(subscription) || current.size > 0) return;
      this.#handlers.delete(channel);
      this.#subscribed.delete(channel);
      if (!this.#closing) await this.#subscriber.unsubscribe(this.#channelPrefix + channel);
    };
  }

  /** Idempotent: a second call waits for the first instead of closing the connection twice. */
  close(): Promise<void> {
    this.#handlers.clear();
    this.#subscribed.clear();
    this.#closing ??= closeClient(this.#subscriber);
    return this.#closing;
  }

  #dispatch(fullChannel: string, text: string): void {
    if (!fullChannel.startsWith(this.#channelPrefix)) return;
    const channel = fullChannel.slice(this.#channelPrefix.length);
    for (const { handler } of this.#handlers.get(channel) ?? []) {
      deliverMessage(handler, text, channel, this.#logger);
    }
  }

  #assertOpen(): void {
    if (this.#closing) throw new Error('pubsub is closed');
  }
}
