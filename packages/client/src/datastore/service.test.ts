import { describe, expect, it } from 'vitest';
import { Service, type ServiceConnection } from './service.js';
import type { ServiceCall } from './transport.js';

interface Item {
  _id: string;
}

/** A connection that answers finds from an in-memory list, capping pages at `maxLimit`. */
function fakeConnection(count: number, options: { maxLimit?: number; paginate?: boolean } = {}) {
  const all: Item[] = Array.from({ length: count }, (_, i) => ({ _id: `i${i}` }));
  const calls: ServiceCall[] = [];
  const connection: ServiceConnection = {
    call: async (call) => {
      calls.push(call);
      if (options.paginate === false) return all;
      const skip = Number(call.query?.$skip ?? 0);
      const limit = Math.min(Number(call.query?.$limit ?? 10), options.maxLimit ?? 1000);
      return { total: all.length, limit, skip, data: all.slice(skip, skip + limit) };
    },
    on: () => undefined,
    off: () => undefined,
  };
  return { all, calls, connection };
}

async function collect<T>(iterator: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const each of iterator) out.push(each);
  return out;
}

describe('Service.items', () => {
  it('stops without an extra request when the last page is full and total is reached', async () => {
    const { all, calls, connection } = fakeConnection(30);
    expect(await collect(new Service<Item>('items', connection).items({}, { pageSize: 10 }))).toEqual(all);
    expect(calls).toHaveLength(3);
  });

  it('keeps paging when the server caps the page size below the one asked for', async () => {
    const { all, calls, connection } = fakeConnection(25, { maxLimit: 10 });
    expect(await collect(new Service<Item>('items', connection).items({}, { pageSize: 100 }))).toEqual(all);
    expect(calls.map((call) => call.query?.$skip)).toEqual([0, 10, 20]);
  });

  it('starts at $skip and yields at most $limit records in all', async () => {
    const { all, calls, connection } = fakeConnection(50);
    const items = await collect(
      new Service<Item>('items', connection).items({ $skip: 5, $limit: 12 }, { pageSize: 10 }),
    );
    expect(items).toEqual(all.slice(5, 17));
    expect(calls.map((call) => [call.query?.$skip, call.query?.$limit])).toEqual([
      [5, 10],
      [15, 2],
    ]);
  });

  it('yields everything from a server that does not paginate', async () => {
    const { all, calls, connection } = fakeConnection(7, { paginate: false });
    expect(await collect(new Service<Item>('items', connection).items())).toEqual(all);
    expect(calls).toHaveLength(1);
  });

  it('subscribes to "<path> <event>" socket events', () => {
    const subscribed: string[] = [];
    const connection: ServiceConnection = {
      call: async () => null,
      on: (eventName) => subscribed.push(`on ${eventName}`),
      off: (eventName) => subscribed.push(`off ${eventName}`),
    };
    const handler = () => undefined;
    new Service<Item>('tfjs-models', connection).on('created', handler).off('removed', handler);
    expect(subscribed).toEqual(['on tfjs-models created', 'off tfjs-models removed']);
  });
});
