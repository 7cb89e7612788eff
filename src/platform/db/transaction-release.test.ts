import { drizzle } from 'drizzle-orm/node-postgres';
import { describe, expect, it } from 'vitest';

/**
 * drizzle-orm 0.45's node-postgres `transaction()` ran BEGIN outside its try/finally, so a
 * BEGIN that failed (a pooled connection killed just after checkout) never released the
 * client: the pool lost a slot for good and `pool.end()` waited forever. patches/ fixes it
 * (applied by `patch-package` on install); this fails if the patch is not applied.
 */
describe('transactions on the node-postgres pool', () => {
  it('release the client when BEGIN fails, and do not send ROLLBACK for a transaction never begun', async () => {
    const sent: string[] = [];
    let released = 0;
    const client = {
      query: async (query: { text: string } | string) => {
        sent.push(typeof query === 'string' ? query : query.text);
        throw new Error('Connection terminated unexpectedly');
      },
      release: () => {
        released += 1;
      },
    };
    // drizzle recognises a pool by its constructor's name.
    class FakePool {
      connect = async () => client;
      query = client.query;
    }
    const db = drizzle({ client: new FakePool() as never });
    await expect(db.transaction(async () => 'never')).rejects.toThrow();
    expect(released).toBe(1);
    expect(sent).toEqual(['begin']);
  });
});
