/**
 * The shapes a Larder (Feathers) service speaks: ids, queries, params, pages and events.
 */

/** A record id; Larder ids are strings, other Feathers servers may use numbers. */
export type Id = string | number;

/** A Feathers query: field conditions plus `$limit`, `$skip`, `$sort`, `$select`, `$or`… */
export type Query = { [key: string]: unknown };

/** Per-call parameters; only `query` travels to the server. */
export interface Params {
  query?: Query;
}

/** A record as stored by Larder: `_id` and timestamps are set by the server. */
export interface DataRecord {
  _id: string;
  createdAt?: string;
  updatedAt?: string;
  [key: string]: unknown;
}

/** What `find` answers: one page of matches and the total count. */
export interface Paginated<T> {
  total: number;
  limit: number;
  skip: number;
  data: T[];
}

/** The realtime events a service emits after each write. */
/** The standard events, or a service's custom one (e.g. `points` on `metrics`). */
export type ServiceEvent = 'created' | 'updated' | 'patched' | 'removed' | (string & {});

/** Receives the record a realtime event carries. */
export type EventHandler<T> = (record: T) => void;
