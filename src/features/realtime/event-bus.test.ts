import { describe, expect, it } from 'vitest';
import { createMemoryPorts } from '../../platform/ports/memory/create-memory-ports.ts';
import { createEventBus, type RealtimeEvent } from './event-bus.ts';
import { frameOf } from './sse-hub.ts';

const silent = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};

async function busWith(options: { replaySize?: number; maxWorkspaces?: number } = {}) {
  const ports = createMemoryPorts({ logger: silent });
  const bus = await createEventBus({ ports, logger: silent, ...options });
  const received: RealtimeEvent[] = [];
  bus.listen((event) => received.push(event));
  const settle = async (n: number) => {
    while (received.length < n) await new Promise((resolve) => setImmediate(resolve));
  };
  const close = async () => {
    await bus.close();
    await ports.close();
  };
  return { bus, received, settle, close };
}

describe('createEventBus', () => {
  it('replays the events after a known id, oldest first, and answers undefined once it fell out of the ring', async () => {
    const { bus, received, settle, close } = await busWith({ replaySize: 3 });
    for (let n = 0; n < 5; n++) await bus.publish({ workspaceId: 'w1', type: 'presence', data: { n } });
    await settle(5);
    const ids = received.map((event) => event.id);
    expect(new Set(ids).size).toBe(5);
    expect(bus.since('w1', ids[2] ?? '')?.map((event) => event.data.n)).toEqual([3, 4]);
    expect(bus.since('w1', ids[4] ?? '')).toEqual([]);
    // Only the last three are kept.
    expect(bus.since('w1', ids[1] ?? '')).toBeUndefined();
    expect(bus.since('w2', ids[4] ?? '')).toBeUndefined();
    await close();
  });

  it('forgets the least recently active workspace first', async () => {
    const { bus, received, settle, close } = await busWith({ maxWorkspaces: 2 });
    for (const workspaceId of ['a', 'b', 'a', 'c'])
      await bus.publish({ workspaceId, type: 'presence', data: {} });
    await settle(4);
    const last = (workspaceId: string) =>
      received.filter((event) => event.workspaceId === workspaceId).at(-1)?.id ?? '';
    expect(bus.since('a', last('a'))).toEqual([]);
    expect(bus.since('c', last('c'))).toEqual([]);
    expect(bus.since('b', last('b'))).toBeUndefined();
    await close();
  });
});

describe('frameOf', () => {
  it('writes id, event and one line of JSON data, with restricted fields only for the full audience', () => {
    const event: RealtimeEvent = {
      id: 'e1',
      at: '2026-01-01T00:00:00.000Z',
      workspaceId: 'w',
      type: 'escalation.note',
      data: { noteId: 'n1' },
      restricted: { body: 'line one\nline two' },
    };
    expect(frameOf(event, true)).toBe(
      'id: e1\nevent: escalation.note\ndata: {"noteId":"n1","body":"line one\\nline two","at":"2026-01-01T00:00:00.000Z"}\n\n',
    );
    expect(frameOf(event, false)).toBe(
      'id: e1\nevent: escalation.note\ndata: {"noteId":"n1","at":"2026-01-01T00:00:00.000Z"}\n\n',
    );
  });
});
