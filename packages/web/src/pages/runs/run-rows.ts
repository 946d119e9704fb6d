/**
 * The rows of the runs table, loaded page by page as they scroll into view, in the order and
 * under the filter the server applies (the query language), and kept live: a patched run
 * changes its row in place; a created or removed run reloads the count and the pages.
 */
import { api, type Page } from '../../api/api-client.js';

export interface RunRow {
  _id: string;
  name?: string;
  status?: string;
  folder?: string;
  createdAt?: string;
  [field: string]: unknown;
}

const PAGE_SIZE = 200;

export class RunRows {
  total = 0;
  /** Bumped on every change, for the table to re-render. */
  version = 0;
  error: Error | undefined;
  private readonly pages = new Map<number, RunRow[]>();
  private readonly loading = new Set<number>();
  private readonly indexById = new Map<string, RunRow>();
  private wanted: [number, number] = [0, 0];
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Its own timer: scrolling (which re-arms `timer`) must not cancel a pending reload. */
  private reloadTimer: ReturnType<typeof setTimeout> | undefined;
  private generation = 0;
  private closed = false;

  /**
   * `query` is the encoded query string: filter, `$sort` and `$select`. `knownTotal` is the
   * count until the server answers (the same runs in another order or with other columns).
   */
  constructor(
    private readonly query: string,
    private readonly onChange: () => void,
    knownTotal = 0,
  ) {
    this.total = knownTotal;
  }

  row(index: number): RunRow | undefined {
    return this.pages.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE];
  }

  /** Loads the first page (and the count). */
  start(): Promise<void> {
    return this.load(0, this.generation);
  }

  /** The table shows rows first..last: load their pages soon (after scrolling settles). */
  want(first: number, last: number): void {
    this.wanted = [first, last];
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.loadWanted(), 40);
  }

  private loadWanted(): void {
    const [first, last] = this.wanted;
    for (let page = Math.floor(first / PAGE_SIZE); page <= Math.floor(last / PAGE_SIZE); page++) {
      if (!this.pages.has(page) && !this.loading.has(page)) void this.load(page, this.generation);
    }
  }

  private async load(page: number, generation: number): Promise<void> {
    this.loading.add(page);
    try {
      const separator = this.query ? '&' : '';
      const answer = await api.request<Page<RunRow>>(
        'GET',
        `/runs?${this.query}${separator}$limit=${PAGE_SIZE}&$skip=${page * PAGE_SIZE}`,
      );
      if (this.closed || generation !== this.generation) return;
      this.total = answer.total;
      this.pages.set(page, answer.data);
      for (const row of answer.data) this.indexById.set(row._id, row);
      this.error = undefined;
    } catch (error) {
      if (this.closed || generation !== this.generation) return;
      this.error = error as Error;
    } finally {
      this.loading.delete(page);
    }
    this.changed();
  }

  /** A run changed on the server: its row (if loaded) takes the new values. */
  patched(record: RunRow): void {
    const row = this.indexById.get(record._id);
    if (!row) return;
    for (const key of Object.keys(row)) if (key in record) row[key] = record[key];
    this.changed();
  }

  /** Runs were added or removed: reload what is in view (coalesced). */
  reload(): void {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => {
      this.generation++;
      const keep = this.generation;
      const [first, last] = this.wanted;
      this.pages.clear();
      this.loading.clear();
      this.indexById.clear();
      void this.load(Math.floor(first / PAGE_SIZE), keep).then(() => {
        if (keep === this.generation) this.want(first, last);
      });
    }, 300);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.reloadTimer);
  }

  private changed(): void {
    this.version++;
    this.onChange();
  }
}
