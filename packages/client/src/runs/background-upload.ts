/**
 * Uploads a live run in the background: every few seconds, and soon after a metadata change,
 * it syncs the run directory; as soon as the writer fills a batch of points it sends full
 * batches (and while batches keep filling, the timer sends only full ones too, so the
 * server gets large appends rather than every second's rest). A failure (server down) is kept and retried on the next tick;
 * it never reaches the training loop. Every sync, the final one too, waits for a turn of
 * the process's {@link UploadScheduler}, shared with its other live runs.
 */
import { type PhasedInterval, phasedInterval } from './phased-interval.js';
import type { RunUploader, RunUploadResult } from './run-uploader.js';
import type { UploadTarget } from './runs-remote.js';
import { sharedUploadScheduler, type UploadScheduler } from './upload-scheduler.js';

export interface BackgroundUploadOptions {
  /** Milliseconds between syncs. Default 5000. */
  intervalMs?: number;
  /** Milliseconds a metadata change waits before its sync, gathering others. Default 200. */
  debounceMs?: number;
  /** Whose turns the syncs wait for. Default: the one this process's live runs share. */
  scheduler?: UploadScheduler;
}

export class BackgroundUpload {
  readonly #uploader: RunUploader;
  readonly #target: UploadTarget;
  readonly #timer: PhasedInterval;
  readonly #debounceMs: number;
  readonly #scheduler: UploadScheduler;
  #nudge: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #lastError: unknown;
  #stopped = false;
  /** What was asked for while a sync was under way: full batches of points, or everything. */
  #again: 'batches' | 'all' | undefined;
  /** The writer filled a batch since the last tick. */
  #filling = false;

  constructor(uploader: RunUploader, target: UploadTarget, options: BackgroundUploadOptions = {}) {
    this.#uploader = uploader;
    this.#target = target;
    this.#debounceMs = options.debounceMs ?? 200;
    this.#scheduler = options.scheduler ?? sharedUploadScheduler;
    // Runs started together tick at different moments: their batches reach the server spread
    // over the interval, not all at once.
    this.#timer = phasedInterval(() => {
      // A run that filled a batch since the last tick keeps its rest for the next full one.
      this.#tick(this.#filling ? 'batches' : 'all');
      this.#filling = false;
    }, options.intervalMs ?? 5000);
  }

  /** The error of the last failed sync, until one succeeds. */
  get lastError(): unknown {
    return this.#lastError;
  }

  /** Asks for a sync soon (after a metadata change). */
  nudge(): void {
    if (this.#stopped || this.#nudge) return;
    this.#nudge = setTimeout(() => {
      this.#nudge = undefined;
      this.#tick();
    }, this.#debounceMs);
    this.#nudge.unref();
  }

  /**
   * Sends the full batches of points waiting now (the writer just filled one), after the
   * sync under way if there is one; the rest goes with the next.
   */
  soon(): void {
    if (this.#stopped) return;
    this.#filling = true;
    if (this.#inFlight) this.#again ??= 'batches';
    else this.#tick('batches');
  }

  /** Stops the timers and waits for a sync under way (or waiting for its turn). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer.stop();
    if (this.#nudge) clearTimeout(this.#nudge);
    await this.#inFlight;
  }

  /** The final sync of everything, in its turn like the others (`finish()`, after {@link stop}); rejects as it fails. */
  lastSync(): Promise<RunUploadResult> {
    return this.#scheduler.run(() => this.#uploader.sync());
  }

  #tick(what: 'batches' | 'all' = 'all'): void {
    if (this.#stopped) return;
    if (this.#inFlight) {
      if (what === 'all') this.#again = 'all';
      return;
    }
    this.#again = undefined;
    const sync = this.#scheduler.run<unknown>(() =>
      what === 'batches' ? this.#uploader.sendFullBatches(this.#target) : this.#uploader.sync(this.#target),
    );
    this.#inFlight = sync.then(
      () => {
        this.#lastError = undefined;
        this.#inFlight = undefined;
        if (this.#again) this.#tick(this.#again);
      },
      (error: unknown) => {
        this.#lastError = error;
        this.#inFlight = undefined;
      },
    );
  }
}
