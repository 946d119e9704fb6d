/**
 * Runs the garbage collector every so often. With several instances on one database, a
 * lease in `_settings` lets only one of them collect per period; an instance that dies
 * holding it loses it when it expires.
 */
import { and, eq, LarderError } from '@larder/protocol';
import type { DocumentStore } from '../../stores/document-store.js';
import type { BlobStore } from '../blob-store.js';
import { type CollectReport, GarbageCollector } from './garbage-collector.js';

export interface PeriodicCollectionOptions {
  intervalMs: number;
  graceMs: number;
  log: (line: string) => void;
}

const SETTINGS_COLLECTION = '_settings';
const LEASE_ID = 'blob-collection-lease';

export class PeriodicCollection {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private readonly holder = `${process.pid}-${Math.random().toString(36).slice(2)}`;

  constructor(
    private readonly store: DocumentStore,
    private readonly blobs: BlobStore,
    private readonly options: PeriodicCollectionOptions,
  ) {}

  start(): void {
    if (this.options.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      this.running ??= this.runOnce()
        .catch((error: unknown) => this.options.log(`blob collection failed: ${(error as Error).message}`))
        .finally(() => {
          this.running = undefined;
        });
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Collects if this instance wins the lease for the coming period; answers the report or undefined. */
  async runOnce(): Promise<CollectReport | undefined> {
    if (!(await this.takeLease())) return undefined;
    const report = await new GarbageCollector(this.store, this.blobs).collect({ graceMs: this.options.graceMs });
    if (report.deleted > 0 || report.danglingReferences > 0) {
      this.options.log(
        `blob collection: ${report.deleted} blobs (${report.bytesFreed} bytes) deleted, ${report.scanned} scanned, ${report.milliseconds} ms`,
      );
    }
    return report;
  }

  private async takeLease(): Promise<boolean> {
    const now = Date.now();
    // Held until shortly before the next tick, so the next period is free for anyone.
    const until = now + Math.max(1000, this.options.intervalMs * 0.9);
    const taken = await this.store.modify(
      SETTINGS_COLLECTION,
      and(eq(['_id'], LEASE_ID), { op: 'lt', path: ['until'], value: now }),
      (row) => ({ ...row, holder: this.holder, until }),
    );
    if (taken.length > 0) return true;
    try {
      await this.store.ensureCollection(SETTINGS_COLLECTION);
      await this.store.insert(SETTINGS_COLLECTION, [{ _id: LEASE_ID, holder: this.holder, until }]);
      return true;
    } catch (error) {
      if (error instanceof LarderError && error.name === 'Conflict') return false;
      throw error;
    }
  }
}
