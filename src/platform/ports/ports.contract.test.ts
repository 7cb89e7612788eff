import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createPorts } from './index.ts';
import type { PortsLogger } from './ports-logger.ts';
import type { Job, Ports } from './types.ts';

/** Opens a Ports instance; instances opened with the same prefix share state where the backend can. */
type MakePorts = (prefix: string, logger: PortsLogger) => Promise<Ports>;

interface ContractOptions {
  /** Whether two instances on one prefix share state (Redis); the memory ports are per process. */
  crossInstance: boolean;
  /** Removes whatever a test left under `prefix` in the backing store. */
  cleanup?: (prefix: string) => Promise<void>;
}

/** Polls `predicate` until it holds; fails with `what` after `timeoutMs`. */
async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A promise the test resolves by hand, to hold a job in the active state. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

interface LogEntry {
  level: 'warn' | 'error';
  obj: object;
  msg: string | undefined;
}

function recordingLogger(): PortsLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return {
    entries,
    warn: (obj, msg) => entries.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => entries.push({ level: 'error', obj, msg }),
  };
}

/** The behaviour every Ports implementation must show, written once. */
function describePortsContract(name: string, makePorts: MakePorts, options: ContractOptions): void {
  describe(`Ports contract: ${name}`, () => {
    const suitePrefix = `test-${randomUUID()}`;
    let prefixCount = 0;
    const opened: Ports[] = [];
    let logger = recordingLogger();

    /** A namespace no other test (or parallel test file) uses. */
    function freshPrefix(): string {
      prefixCount += 1;
      return `${suitePrefix}:${prefixCount}`;
    }

    async function open(prefix = freshPrefix()): Promise<Ports> {
      const ports = await makePorts(prefix, logger);
      opened.push(ports);
      return ports;
    }

    /** Two instances on one namespace, as two processes of the scaled shape would be. */
    async function openPair(): Promise<[Ports, Ports]> {
      const prefix = freshPrefix();
      return [await open(prefix), await open(prefix)];
    }

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((ports) => ports.close()));
      logger = recordingLogger();
    });

    afterAll(async () => {
      await options.cleanup?.(suitePrefix);
    });

    it('reports its kind and answers ping', async () => {
      const ports = await open();
      expect(ports.kind).toBe(name);
      await expect(ports.ping()).resolves.toBeUndefined();
    });

    describe('queue', () => {
      it('runs jobs with their data, queue, id and first attempt', async () => {
        const ports = await open();
        const seen: Job<{ n: number }>[] = [];
        const before = Date.now();
        await ports.queue.add('q', { n: 1 });
        await ports.queue.add('q', { n: 2 });
        ports.queue.work<{ n: number }>('q', async (job) => {
          seen.push(job);
        });
        await waitFor(() => seen.length === 2, 10_000, 'two jobs');
        expect(seen.map((job) => job.data.n).sort()).toEqual([1, 2]);
        for (const job of seen) {
          expect(job.queue).toBe('q');
          expect(job.attempt).toBe(1);
          expect(job.id).not.toBe('');
          expect(job.enqueuedAt).toBeGreaterThanOrEqual(before - 1000);
          expect(job.enqueuedAt).toBeLessThanOrEqual(Date.now());
        }
        expect(new Set(seen.map((job) => job.id)).size).toBe(2);
      });

      it('JSON round-trips job data', async () => {
        const ports = await open();
        const seen: unknown[] = [];
        ports.queue.work('q', async (job) => {
          seen.push(job.data);
        });
        await ports.queue.add('q', { at: new Date(0), skip: undefined, list: [1, 'two', null] });
        await waitFor(() => seen.length === 1, 10_000, 'the job');
        expect(seen[0]).toEqual({ at: '1970-01-01T00:00:00.000Z', list: [1, 'two', null] });
      });

      it('retries a failing job and succeeds on a later attempt', async () => {
        const ports = await open();
        const attempts: number[] = [];
        let succeeded = false;
        ports.queue.work('q', async (job) => {
          attempts.push(job.attempt);
          if (job.attempt < 3) throw new Error(`attempt ${job.attempt} fails`);
          succeeded = true;
        });
        await ports.queue.add('q', {}, { attempts: 5, backoffMs: 20 });
        await waitFor(() => succeeded, 10_000, 'the third attempt');
        expect(attempts).toEqual([1, 2, 3]);
        const stats = await ports.queue.stats('q');
        expect(stats.failed).toBe(0);
        expect(logger.entries.filter((entry) => entry.level === 'warn')).toHaveLength(2);
      });

      it('gives up after `attempts` and counts the job as failed', async () => {
        const ports = await open();
        const attempts: number[] = [];
        ports.queue.work('q', async (job) => {
          attempts.push(job.attempt);
          throw new Error('always fails');
        });
        await ports.queue.add('q', {}, { attempts: 2, backoffMs: 20 });
        await waitFor(async () => (await ports.queue.stats('q')).failed === 1, 10_000, 'the failure');
        // The failure is counted only after the last attempt, so no further attempt can follow.
        expect(attempts).toEqual([1, 2]);
        const stats = await ports.queue.stats('q');
        expect(stats).toMatchObject({ waiting: 0, active: 0, delayed: 0, failed: 1 });
        await waitFor(
          () => logger.entries.some((entry) => entry.level === 'error'),
          5_000,
          'the final failure to be logged',
        );
        expect(logger.entries.find((entry) => entry.level === 'error')?.obj).toMatchObject({
          queue: 'q',
          attempt: 2,
        });
      });

      it('honours delayMs', async () => {
        const ports = await open();
        let ranAt = 0;
        ports.queue.work('q', async () => {
          ranAt = Date.now();
        });
        const addedAt = Date.now();
        await ports.queue.add('q', {}, { delayMs: 400 });
        expect(await ports.queue.stats('q')).toMatchObject({ delayed: 1, waiting: 0 });
        await waitFor(() => ranAt > 0, 10_000, 'the delayed job');
        expect(ranAt - addedAt).toBeGreaterThanOrEqual(400);
      });

      it('dedupes by jobId while waiting or delayed', async () => {
        const ports = await open();
        await ports.queue.add('q', { n: 1 }, { jobId: 'tenant:1' });
        await ports.queue.add('q', { n: 2 }, { jobId: 'tenant:1' });
        await ports.queue.add('q', { n: 3 }, { jobId: 'tenant:2' });
        await ports.queue.add('q', { n: 4 }, { jobId: 'later', delayMs: 60_000 });
        await ports.queue.add('q', { n: 5 }, { jobId: 'later', delayMs: 60_000 });
        expect(await ports.queue.stats('q')).toMatchObject({ waiting: 2, delayed: 1 });
        const seen: Job<{ n: number }>[] = [];
        ports.queue.work<{ n: number }>('q', async (job) => {
          seen.push(job);
        });
        await waitFor(() => seen.length === 2, 10_000, 'the two distinct jobs');
        expect(seen.map((job) => job.data.n).sort()).toEqual([1, 3]);
        expect(seen.map((job) => job.id).sort()).toEqual(['tenant:1', 'tenant:2']);
      });

      it('dedupes by jobId while active, and accepts the id again once the job finished', async () => {
        const ports = await open();
        const hold = gate();
        const seen: number[] = [];
        ports.queue.work<{ n: number }>('q', async (job) => {
          seen.push(job.data.n);
          if (job.data.n === 1) await hold.promise;
        });
        await ports.queue.add('q', { n: 1 }, { jobId: 'once' });
        await waitFor(() => seen.length === 1, 10_000, 'the first job to start');
        await ports.queue.add('q', { n: 2 }, { jobId: 'once' });
        expect(await ports.queue.stats('q')).toMatchObject({ waiting: 0, delayed: 0, active: 1 });
        hold.open();
        await waitFor(async () => (await ports.queue.stats('q')).active === 0, 10_000, 'the job to finish');
        await ports.queue.add('q', { n: 3 }, { jobId: 'once' });
        await waitFor(() => seen.length === 2, 10_000, 'the re-added job');
        expect(seen).toEqual([1, 3]);
      });

      it('keeps a jobId deduped between retries', async () => {
        const ports = await open();
        const seen: number[] = [];
        ports.queue.work<{ n: number }>('q', async (job) => {
          seen.push(job.data.n);
          if (job.attempt === 1) throw new Error('first attempt fails');
        });
        await ports.queue.add('q', { n: 1 }, { jobId: 'retrying', attempts: 2, backoffMs: 60_000 });
        await waitFor(async () => (await ports.queue.stats('q')).delayed === 1, 10_000, 'the retry backoff');
        await ports.queue.add('q', { n: 2 }, { jobId: 'retrying' });
        expect(await ports.queue.stats('q')).toMatchObject({ waiting: 0, active: 0, delayed: 1 });
        expect(seen).toEqual([1]);
      });

      it('never runs more than `concurrency` jobs at once', async () => {
        const ports = await open();
        const hold = gate();
        let active = 0;
        let maxActive = 0;
        let done = 0;
        ports.queue.work(
          'q',
          async () => {
            active += 1;
            maxActive = Math.max(maxActive, active);
            await hold.promise;
            active -= 1;
            done += 1;
          },
          { concurrency: 3 },
        );
        for (let n = 0; n < 10; n += 1) await ports.queue.add('q', { n });
        await waitFor(() => active === 3, 10_000, 'three active jobs');
        expect(await ports.queue.stats('q')).toMatchObject({ active: 3, waiting: 7 });
        hold.open();
        await waitFor(() => done === 10, 10_000, 'all jobs');
        expect(maxActive).toBe(3);
      });

      it('runs a repeatable job several times, and replacing it keeps one schedule', async () => {
        const ports = await open();
        const runs: { version: number; at: number }[] = [];
        ports.queue.work<{ version: number }>('q', async (job) => {
          runs.push({ version: job.data.version, at: Date.now() });
        });
        await ports.queue.repeat('q', 'tick', 200, { version: 1 });
        await waitFor(() => runs.length >= 3, 10_000, 'three runs');
        await ports.queue.repeat('q', 'tick', 200, { version: 2 });
        await waitFor(() => runs.filter((run) => run.version === 2).length >= 3, 10_000, 'three runs of v2');
        const firstV2 = runs.findIndex((run) => run.version === 2);
        // Once replaced, the old schedule is gone: no v1 run after the first v2 run.
        expect(runs.slice(firstV2).every((run) => run.version === 2)).toBe(true);
      });

      it('reports stats', async () => {
        const ports = await open();
        expect(await ports.queue.stats('empty')).toEqual({
          waiting: 0,
          active: 0,
          delayed: 0,
          failed: 0,
          oldestWaitingMs: 0,
        });
        await ports.queue.add('q', { n: 1 });
        await waitFor(
          async () => (await ports.queue.stats('q')).oldestWaitingMs >= 100,
          5_000,
          'the queue lag to grow',
        );
        await ports.queue.add('q', { n: 2 });
        await ports.queue.add('q', { n: 3 }, { delayMs: 60_000 });
        const stats = await ports.queue.stats('q');
        expect(stats).toMatchObject({ waiting: 2, active: 0, delayed: 1, failed: 0 });
        // The lag is the oldest waiting job's, not the newest's.
        expect(stats.oldestWaitingMs).toBeGreaterThanOrEqual(100);
      });

      it('close waits for the active job and then refuses new jobs', async () => {
        const ports = await open();
        let started = false;
        let finished = false;
        ports.queue.work('q', async () => {
          started = true;
          // The job must still be running when close() is called.
          await new Promise((resolve) => setTimeout(resolve, 300));
          finished = true;
        });
        await ports.queue.add('q', {});
        await waitFor(() => started, 10_000, 'the job to start');
        await ports.close();
        expect(finished).toBe(true);
        await expect(ports.queue.add('q', {})).rejects.toThrow();
      });

      it('rejects input the Redis queue could not take', async () => {
        const ports = await open();
        await expect(ports.queue.add('a:b', {})).rejects.toThrow(/queue name/);
        await expect(ports.queue.add('q', {}, { attempts: 0 })).rejects.toThrow(RangeError);
        await expect(ports.queue.add('q', {}, { delayMs: -1 })).rejects.toThrow(RangeError);
        expect(() => ports.queue.work('q', async () => {}, { concurrency: 0 })).toThrow(RangeError);
        await expect(ports.queue.repeat('q', 'tick', 0, {})).rejects.toThrow(RangeError);
      });

      it.runIf(options.crossInstance)('shares a queue between instances: each job runs once', async () => {
        const [a, b] = await openPair();
        const runs = new Map<number, string[]>();
        const record = (instance: string) => async (job: Job<{ n: number }>) => {
          runs.set(job.data.n, [...(runs.get(job.data.n) ?? []), instance]);
        };
        a.queue.work('q', record('a'), { concurrency: 2 });
        b.queue.work('q', record('b'), { concurrency: 2 });
        for (let n = 0; n < 20; n += 1) await (n % 2 === 0 ? a : b).queue.add('q', { n });
        await waitFor(() => runs.size === 20, 10_000, 'all jobs');
        await waitFor(async () => (await a.queue.stats('q')).active === 0, 10_000, 'the queue to drain');
        for (const instances of runs.values()) expect(instances).toHaveLength(1);
      });

      it.runIf(options.crossInstance)(
        'runs a repeatable job once per period across instances that both schedule it',
        async () => {
          const [a, b] = await openPair();
          const everyMs = 300;
          const runs: { at: number; id: string }[] = [];
          const record = async (job: Job<unknown>) => {
            runs.push({ at: Date.now(), id: job.id });
          };
          a.queue.work('q', record);
          b.queue.work('q', record);
          await a.queue.repeat('q', 'tick', everyMs, {});
          await b.queue.repeat('q', 'tick', everyMs, {});
          await waitFor(() => runs.length >= 6, 15_000, 'six runs');
          expect(new Set(runs.map((run) => run.id)).size).toBe(runs.length);
          // The first run comes at once when the schedule is created; runs 2..6 are one per period, so
          // they span four periods. Each period run twice would fit them into about two.
          const span = (runs[5]?.at ?? 0) - (runs[1]?.at ?? 0);
          expect(span).toBeGreaterThanOrEqual(3 * everyMs);
        },
      );
    });

    describe('pubsub', () => {
      it('delivers to every subscriber, JSON round-tripped', async () => {
        const ports = await open();
        const first: unknown[] = [];
        const second: unknown[] = [];
        await ports.pubsub.subscribe('news', (message) => first.push(message));
        await ports.pubsub.subscribe('news', (message) => second.push(message));
        const sent = { at: new Date(0), skip: undefined, nested: { list: [1, 'two'] } };
        await ports.pubsub.publish('news', sent);
        await waitFor(() => first.length === 1 && second.length === 1, 5_000, 'both deliveries');
        const expected = { at: '1970-01-01T00:00:00.000Z', nested: { list: [1, 'two'] } };
        expect(first[0]).toEqual(expected);
        expect(second[0]).toEqual(expected);
        // Each subscriber gets its own copy.
        expect(first[0]).not.toBe(second[0]);
      });

      it('delivers only to subscribers of the channel', async () => {
        const ports = await open();
        const news: unknown[] = [];
        const other: unknown[] = [];
        await ports.pubsub.subscribe('news', (message) => news.push(message));
        await ports.pubsub.subscribe('other', (message) => other.push(message));
        await ports.pubsub.publish('news', 1);
        await ports.pubsub.publish('other', 2);
        // Delivery keeps publish order, so once 'other' has its message 'news' has all of its own.
        await waitFor(() => other.length === 1, 5_000, 'the second message');
        expect(news).toEqual([1]);
        expect(other).toEqual([2]);
      });

      it('stops delivering after unsubscribe', async () => {
        const ports = await open();
        const dropped: unknown[] = [];
        const kept: unknown[] = [];
        const unsubscribe = await ports.pubsub.subscribe('news', (message) => dropped.push(message));
        await ports.pubsub.subscribe('news', (message) => kept.push(message));
        await ports.pubsub.publish('news', 'one');
        await waitFor(() => dropped.length === 1 && kept.length === 1, 5_000, 'the first message');
        await unsubscribe();
        await ports.pubsub.publish('news', 'two');
        await waitFor(() => kept.length === 2, 5_000, 'the second message');
        expect(dropped).toEqual(['one']);
        expect(kept).toEqual(['one', 'two']);
      });

      it('keeps delivering when a handler throws', async () => {
        const ports = await open();
        const kept: unknown[] = [];
        await ports.pubsub.subscribe('news', () => {
          throw new Error('broken handler');
        });
        await ports.pubsub.subscribe('news', (message) => kept.push(message));
        await ports.pubsub.publish('news', 'one');
        await waitFor(() => kept.length === 1, 5_000, 'the message');
        await waitFor(() => logger.entries.some((entry) => entry.level === 'error'), 5_000, 'the error log');
      });

      it.runIf(options.crossInstance)('delivers across instances of one prefix, and only those', async () => {
        const [a, b] = await openPair();
        const elsewhere = await open();
        const atA: unknown[] = [];
        const atB: unknown[] = [];
        const atElsewhere: unknown[] = [];
        await a.pubsub.subscribe('news', (message) => atA.push(message));
        await b.pubsub.subscribe('news', (message) => atB.push(message));
        await elsewhere.pubsub.subscribe('news', (message) => atElsewhere.push(message));
        await b.pubsub.publish('news', { from: 'b' });
        await waitFor(() => atA.length === 1 && atB.length === 1, 5_000, 'delivery to both instances');
        expect(atA).toEqual([{ from: 'b' }]);
        expect(atB).toEqual([{ from: 'b' }]);
        // Redis delivers in command order: had b's message leaked to the other prefix, it would arrive
        // before this one.
        await elsewhere.pubsub.publish('news', { from: 'elsewhere' });
        await waitFor(() => atElsewhere.length > 0, 5_000, 'the other prefix message');
        expect(atElsewhere).toEqual([{ from: 'elsewhere' }]);
      });
    });

    describe('rate limiter', () => {
      it('allows `points` and then denies with a retry delay', async () => {
        const ports = await open();
        const limiter = ports.rateLimiter.limiter({ name: 'login', points: 3, durationSeconds: 10 });
        expect(await limiter.consume('ip-1')).toEqual({ allowed: true, remaining: 2, retryAfterMs: 0 });
        expect(await limiter.consume('ip-1')).toMatchObject({ allowed: true, remaining: 1 });
        expect(await limiter.consume('ip-1')).toMatchObject({ allowed: true, remaining: 0 });
        const denied = await limiter.consume('ip-1');
        expect(denied).toMatchObject({ allowed: false, remaining: 0 });
        expect(denied.retryAfterMs).toBeGreaterThan(0);
        expect(denied.retryAfterMs).toBeLessThanOrEqual(10_000);
        const peeked = await limiter.peek('ip-1');
        expect(peeked).toMatchObject({ allowed: false, remaining: 0 });
        expect(peeked.retryAfterMs).toBeGreaterThan(0);
      });

      it('peeks without consuming and consumes several points at once', async () => {
        const ports = await open();
        const limiter = ports.rateLimiter.limiter({ name: 'api', points: 5, durationSeconds: 10 });
        expect(await limiter.peek('k')).toEqual({ allowed: true, remaining: 5, retryAfterMs: 0 });
        expect(await limiter.consume('k', 3)).toMatchObject({ allowed: true, remaining: 2 });
        expect(await limiter.peek('k')).toEqual({ allowed: true, remaining: 2, retryAfterMs: 0 });
        expect(await limiter.consume('k', 3)).toMatchObject({ allowed: false, remaining: 0 });
        await expect(limiter.consume('k', 0.5)).rejects.toThrow(RangeError);
      });

      it('keeps keys and limiter names independent', async () => {
        const ports = await open();
        const login = ports.rateLimiter.limiter({ name: 'login', points: 1, durationSeconds: 10 });
        const signup = ports.rateLimiter.limiter({ name: 'signup', points: 1, durationSeconds: 10 });
        expect((await login.consume('k')).allowed).toBe(true);
        expect((await login.consume('k')).allowed).toBe(false);
        expect((await login.consume('other')).allowed).toBe(true);
        expect((await signup.consume('k')).allowed).toBe(true);
      });

      it('shares state between limiters of one name and refuses a conflicting rule', async () => {
        const ports = await open();
        const rule = { name: 'login', points: 1, durationSeconds: 10 };
        expect((await ports.rateLimiter.limiter(rule).consume('k')).allowed).toBe(true);
        expect((await ports.rateLimiter.limiter({ ...rule }).consume('k')).allowed).toBe(false);
        expect(() => ports.rateLimiter.limiter({ ...rule, points: 2 })).toThrow(/different rule/);
      });

      it('resets a key', async () => {
        const ports = await open();
        const limiter = ports.rateLimiter.limiter({ name: 'login', points: 1, durationSeconds: 10 });
        await limiter.consume('k');
        expect((await limiter.consume('k')).allowed).toBe(false);
        await limiter.reset('k');
        expect(await limiter.consume('k')).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
      });

      it('allows again once the window has passed', async () => {
        const ports = await open();
        const limiter = ports.rateLimiter.limiter({ name: 'burst', points: 1, durationSeconds: 1 });
        await limiter.consume('k');
        expect((await limiter.consume('k')).allowed).toBe(false);
        await waitFor(async () => (await limiter.peek('k')).allowed, 3_000, 'the window to pass');
        expect((await limiter.consume('k')).allowed).toBe(true);
      });

      it.runIf(options.crossInstance)('shares points between instances', async () => {
        const [a, b] = await openPair();
        const rule = { name: 'login', points: 3, durationSeconds: 10 };
        expect((await a.rateLimiter.limiter(rule).consume('k', 2)).allowed).toBe(true);
        expect(await b.rateLimiter.limiter(rule).consume('k')).toMatchObject({ allowed: true, remaining: 0 });
        expect((await a.rateLimiter.limiter(rule).consume('k')).allowed).toBe(false);
        await b.rateLimiter.limiter(rule).reset('k');
        expect((await a.rateLimiter.limiter(rule).consume('k')).allowed).toBe(true);
      });
    });

    describe('cache', () => {
      it('gets, sets, overwrites and deletes JSON values', async () => {
        const ports = await open();
        expect(await ports.cache.get('missing')).toBeUndefined();
        await ports.cache.set('k', { at: new Date(0), skip: undefined, n: 1 }, 60);
        expect(await ports.cache.get('k')).toEqual({ at: '1970-01-01T00:00:00.000Z', n: 1 });
        // Reads never share an object with each other or the writer.
        expect(await ports.cache.get('k')).not.toBe(await ports.cache.get('k'));
        await ports.cache.set('k', 'replaced', 60);
        expect(await ports.cache.get('k')).toBe('replaced');
        await ports.cache.set('falsy', 0, 60);
        expect(await ports.cache.get('falsy')).toBe(0);
        await ports.cache.delete('k');
        expect(await ports.cache.get('k')).toBeUndefined();
        await expect(ports.cache.set('k', 1, 0)).rejects.toThrow(RangeError);
      });

      it('expires entries after their TTL', async () => {
        const ports = await open();
        await ports.cache.set('short', 'value', 1);
        await ports.cache.set('long', 'value', 60);
        expect(await ports.cache.get('short')).toBe('value');
        await waitFor(
          async () => (await ports.cache.get('short')) === undefined,
          3_000,
          'the entry to expire',
        );
        expect(await ports.cache.get('long')).toBe('value');
      });

      it.runIf(options.crossInstance)('is shared between instances of one prefix only', async () => {
        const [a, b] = await openPair();
        const elsewhere = await open();
        await a.cache.set('k', { n: 1 }, 60);
        expect(await b.cache.get('k')).toEqual({ n: 1 });
        expect(await elsewhere.cache.get('k')).toBeUndefined();
      });
    });

    describe('pacer', () => {
      it('spaces slots evenly after the burst, per key', async () => {
        const ports = await open();
        const rule = { intervalMs: 100, burst: 3 };
        const waits: number[] = [];
        for (let i = 0; i < 6; i++) waits.push(await ports.pacer.reserve('chat', rule));
        // Three at once, then one every interval.
        expect(waits.slice(0, 3)).toEqual([0, 0, 0]);
        for (const [index, wait] of waits.slice(3).entries()) {
          expect(wait).toBeGreaterThan(100 * (index + 1) - 30);
          expect(wait).toBeLessThanOrEqual(100 * (index + 1));
        }
        expect(await ports.pacer.reserve('other', rule)).toBe(0);
      });

      it.runIf(options.crossInstance)('shares slots between instances of one prefix', async () => {
        const [a, b] = await openPair();
        const rule = { intervalMs: 1000 };
        expect(await a.pacer.reserve('bot', rule)).toBe(0);
        expect(await b.pacer.reserve('bot', rule)).toBeGreaterThan(900);
      });
    });

    describe('locks', () => {
      it('gives a key to one holder at a time and back after release', async () => {
        const ports = await open();
        const first = await ports.locks.tryAcquire('chat:1', 10_000);
        expect(first).toBeDefined();
        expect(await ports.locks.tryAcquire('chat:1', 10_000)).toBeUndefined();
        expect(await ports.locks.tryAcquire('chat:2', 10_000)).toBeDefined();
        expect(await ports.locks.isHeld('chat:1')).toBe(true);
        await first?.release();
        expect(await ports.locks.isHeld('chat:1')).toBe(false);
        expect(await ports.locks.tryAcquire('chat:1', 10_000)).toBeDefined();
      });

      it('frees a key whose holder never released it when the TTL passes, and the old lease cannot free the new one', async () => {
        const ports = await open();
        const stale = await ports.locks.tryAcquire('k', 200);
        await waitFor(async () => !(await ports.locks.isHeld('k')), 3_000, 'the lease to expire');
        const next = await ports.locks.tryAcquire('k', 10_000);
        expect(next).toBeDefined();
        await stale?.release();
        expect(await ports.locks.isHeld('k')).toBe(true);
        expect(await stale?.extend()).toBe(false);
        expect(await next?.extend()).toBe(true);
      });

      it.runIf(options.crossInstance)('excludes holders on other instances of one prefix', async () => {
        const [a, b] = await openPair();
        const lease = await a.locks.tryAcquire('chat', 10_000);
        expect(lease).toBeDefined();
        expect(await b.locks.tryAcquire('chat', 10_000)).toBeUndefined();
        await lease?.release();
        expect(await b.locks.tryAcquire('chat', 10_000)).toBeDefined();
      });
    });
  });
}

describePortsContract('memory', (_prefix, logger) => createPorts({ logger }), { crossInstance: false });

const redisUrl = process.env.TEST_REDIS_URL;

describe.skipIf(!redisUrl)('with TEST_REDIS_URL', () => {
  describePortsContract('redis', (prefix, logger) => createPorts({ redisUrl, prefix, logger }), {
    crossInstance: true,
    cleanup: async (prefix) => {
      const redis = new Redis(redisUrl ?? '');
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await redis.del(...keys);
        } while (cursor !== '0');
      } finally {
        await redis.quit();
      }
    },
  });
});
