/**
 * Uploads a live run in the background: every few seconds, and soon after a metadata change,
 * it syncs the run directory. A failure (server down) is kept and retried on the next tick;
 * it never reaches the training loop.
 */
import type { RunUploader } from './run-uploader.js';
import type { UploadTarget } from './runs-remote.js';

export interface BackgroundUploadOptions {
  /** Milliseconds between syncs. Default 5000. */
  intervalMs?: number;
  /** Milliseconds a metadata change waits before its sync, gathering others. Default 200. */
  debounceMs?: number;
}

export class BackgroundUpload {
  readonly #uploader: RunUploader;
  readonly #target: UploadTarget;
  readonly #timer: NodeJS.Timeout;
  readonly #debounceMs: number;
  #nudge: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #lastError: unknown;
  #stopped = false;
  /** A sync was asked for while one was under way. */
  #again = false;

  constructor(uploader: RunUploader, target: UploadTarget, options: BackgroundUploadOptions = {}) {
    this.#uploader = uploader;
    this.#target = target;
    this.#debounceMs = options.debounceMs ?? 200;
    this.#timer = setInterval(() => this.#tick(), options.intervalMs ?? 5000);
    this.#timer.unref();
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

  /** Syncs now (a full batch of points waits); after the sync under way, if there is one. */
  soon(): void {
    if (this.#stopped) return;
    if (this.#inFlight) this.#again = true;
    else this.#tick();
  }

  /** Stops the timers and waits for a sync under way. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    if (this.#nudge) clearTimeout(this.#nudge);
    await this.#inFlight;
  }

  #tick(): void {
    if (this.#stopped || this.#inFlight) return;
    this.#again = false;
    this.#inFlight = this.#uploader.sync(this.#target).then(
      () => {
        this.#lastError = undefined;
        this.#inFlight = undefined;
        if (this.#again) this.#tick();
      },
      (error: unknown) => {
        this.#lastError = error;
        this.#inFlight = undefined;
      },
    );
  }
}
