/**
 * Records of a service loaded page by page as a virtualised view asks for them (`$skip`,
 * `$limit`), under a fixed query string.
 */
import { api, type Page } from '../api/api-client.js';

export class PagedSource<T> {
  total = 0;
  ready = false;
  error: Error | undefined;
  private readonly pages = new Map<number, T[]>();
  private readonly loading = new Set<number>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly query: string,
    private readonly onChange: () => void,
    private readonly pageSize = 100,
  ) {}

  item(index: number): T | undefined {
    return this.pages.get(Math.floor(index / this.pageSize))?.[index % this.pageSize];
  }

  start(): Promise<void> {
    return this.load(0);
  }

  want(first: number, last: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      for (let page = Math.floor(first / this.pageSize); page <= Math.floor(last / this.pageSize); page++) {
        if (!this.pages.has(page) && !this.loading.has(page)) void this.load(page);
      }
    }, 40);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private async load(page: number): Promise<void> {
    this.loading.add(page);
    try {
      const separator = this.query ? '&' : '';
      const answer = await api.request<Page<T>>(
        'GET',
        `${this.path}?${this.query}${separator}$limit=${this.pageSize}&$skip=${page * this.pageSize}`,
      );
      if (this.closed) return;
      this.total = answer.total;
      this.pages.set(page, answer.data);
    } catch (error) {
      this.error = error as Error;
    } finally {
      this.loading.delete(page);
      this.ready = true;
    }
    if (!this.closed) this.onChange();
  }
}
