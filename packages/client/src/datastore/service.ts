/**
 * A remote Feathers service with the usual CRUD methods, a paging iterator and realtime
 * events. Obtain one from {@link DataStore.service}.
 */
import type { DataRecord, EventHandler, Id, Paginated, Params, Query, ServiceEvent } from './service-types.js';
import type { ServiceCall } from './transport.js';

/** What a Service needs from its DataStore. */
export interface ServiceConnection {
  call(call: ServiceCall): Promise<unknown>;
  on<T>(eventName: string, handler: (record: T) => void): void;
  off<T>(eventName: string, handler: (record: T) => void): void;
}

/** How {@link Service.items} reads pages. */
export interface ItemsOptions {
  /** Records fetched per request; the server may cap it (Larder at 1000). Default 100. */
  pageSize?: number;
}

const DEFAULT_PAGE_SIZE = 100;

/**
 * Records of type `T` at `/<path>`; `D` is what create, update and patch accept.
 *
 * @example
 * interface Run extends DataRecord { name: string; status: string }
 * const runs = new DataStore().service<Run>('runs');
 * const run = await runs.create({ name: 'mnist-1', status: 'idle' });
 * await runs.patch(run._id, { status: 'success' });
 * const { total, data } = await runs.find({ query: { status: 'success', $sort: { createdAt: -1 } } });
 * for await (const each of runs.items({ status: 'success' })) console.log(each.name);
 */
export class Service<T = DataRecord, D = Partial<T>> {
  readonly path: string;
  readonly #connection: ServiceConnection;

  constructor(path: string, connection: ServiceConnection) {
    this.path = path;
    this.#connection = connection;
  }

  /** One page of the records matching `params.query` (`$limit`, `$skip`, `$sort`…). */
  find(params: Params = {}): Promise<Paginated<T>> {
    return this.#call({ method: 'find', query: params.query });
  }

  /** The record with `id`; a NotFound LarderError when there is none. */
  get(id: Id, params: Params = {}): Promise<T> {
    return this.#call({ method: 'get', id, query: params.query });
  }

  /** Creates one record, or several from an array; answers what was stored. */
  create(data: D, params?: Params): Promise<T>;
  create(data: D[], params?: Params): Promise<T[]>;
  create(data: D | D[], params: Params = {}): Promise<T | T[]> {
    return this.#call({ method: 'create', data, query: params.query });
  }

  /** Replaces the record with `id` by `data`. */
  update(id: Id, data: D, params: Params = {}): Promise<T> {
    return this.#call({ method: 'update', id, data, query: params.query });
  }

  /** Merges `data` into the record with `id`, or into every match of `params.query` when `id` is null. */
  patch(id: Id, data: Partial<D>, params?: Params): Promise<T>;
  patch(id: null, data: Partial<D>, params?: Params): Promise<T[]>;
  patch(id: Id | null, data: Partial<D>, params: Params = {}): Promise<T | T[]> {
    return this.#call({ method: 'patch', id, data, query: params.query });
  }

  /** Removes the record with `id`, or every match of `params.query` when `id` is null. */
  remove(id: Id, params?: Params): Promise<T>;
  remove(id: null, params?: Params): Promise<T[]>;
  remove(id: Id | null, params: Params = {}): Promise<T | T[]> {
    return this.#call({ method: 'remove', id, query: params.query });
  }

  /**
   * Every record matching `query`, fetched page by page. `$skip` and `$limit` in the query
   * keep their meaning (where to start, how many in all); pages stop at a short page or
   * once `total` is reached.
   *
   * @example
   * for await (const run of runs.items({ status: 'success', $sort: { createdAt: 1 } })) console.log(run.name);
   */
  async *items(query: Query = {}, options: ItemsOptions = {}): AsyncGenerator<T, void, undefined> {
    const { $skip, $limit, ...conditions } = query;
    const pageSize = Math.max(1, options.pageSize ?? DEFAULT_PAGE_SIZE);
    let skip = toCount($skip) ?? 0;
    let remaining = toCount($limit) ?? Number.POSITIVE_INFINITY;
    while (remaining > 0) {
      const limit = Math.min(pageSize, remaining);
      const page: Paginated<T> | T[] = await this.find({ query: { ...conditions, $limit: limit, $skip: skip } });
      if (Array.isArray(page)) {
        // A server without pagination answered everything at once.
        yield* page.slice(0, remaining);
        return;
      }
      yield* page.data;
      const count = page.data.length;
      skip += count;
      remaining -= count;
      if (count === 0 || count < Math.min(limit, page.limit) || skip >= page.total) return;
    }
  }

  /** Calls `handler` with the record after each `event` on this service (opens a socket). */
  on(event: ServiceEvent, handler: EventHandler<T>): this {
    this.#connection.on(`${this.path} ${event}`, handler);
    return this;
  }

  /** Stops calling `handler` for `event`. */
  off(event: ServiceEvent, handler: EventHandler<T>): this {
    this.#connection.off(`${this.path} ${event}`, handler);
    return this;
  }

  #call<R>(call: Omit<ServiceCall, 'path'>): Promise<R> {
    // The server is the source of truth for record shapes; T is the caller's declaration of them.
    return this.#connection.call({ ...call, path: this.path }) as Promise<R>;
  }
}

function toCount(value: unknown): number | undefined {
  const count = typeof value === 'string' ? Number(value) : value;
  return typeof count === 'number' && Number.isFinite(count) && count >= 0 ? Math.floor(count) : undefined;
}
