import type { Redis } from 'ioredis';

/**
 * Closes an ioredis connection: QUIT when connected so pending replies still arrive; a client that
 * never connected (lazyConnect) or is reconnecting has nothing to wait for and is just dropped.
 */
export async function closeClient(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    await client.quit();
    return;
  }
  client.disconnect();
}
