/**
 * Turns to upload for the live runs of one process: at most a few syncs at once, in the
 * order they asked. Ten runs of a process that fill a batch in the same second would
 * otherwise send ten `POST /metrics` at once, each on a connection of its own (opened, in
 * a short process, by code still cold), and the server would answer all of them late; in
 * turns the process keeps one or two warm connections, and each batch meets a short queue.
 * The points wait on disk, where they already are: a turn changes when a batch is sent,
 * never whether.
 */

/** Syncs a process's live runs send at once; one more hides a batch's encoding behind another's answer. */
export const UPLOAD_CONCURRENCY = 2;

export class UploadScheduler {
  readonly #concurrency: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(concurrency: number = UPLOAD_CONCURRENCY) {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`An upload scheduler needs a whole number of turns of 1 or more, not ${concurrency}`);
    }
    this.#concurrency = concurrency;
  }

  /** Syncs under way. */
  get running(): number {
    return this.#running;
  }

  /** Syncs waiting for a turn. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Runs `work` when a turn is free (at once if one is) and answers what it answers; its
   * failure is the caller's alone, and frees the turn like a success.
   *
   * @example
   * const result = await sharedUploadScheduler.run(() => uploader.sync());
   */
  run<T>(work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.#running += 1;
        let result: Promise<T>;
        try {
          result = work();
        } catch (error) {
          result = Promise.reject(error);
        }
        // The turn passes on before the caller hears the answer.
        result.then(
          (value) => {
            this.#release();
            resolve(value);
          },
          (error: unknown) => {
            this.#release();
            reject(error);
          },
        );
      };
      if (this.#running < this.#concurrency) start();
      else this.#waiting.push(start);
    });
  }

  #release(): void {
    this.#running -= 1;
    this.#waiting.shift()?.();
  }
}

/** The scheduler every live run of this process shares unless given another. */
export const sharedUploadScheduler = new UploadScheduler();
