/** A model's training state: its status and the epochs and times it started, last progressed and ended. */
import { PmfModelError } from '../errors/pmf-error.js';
import { TRAINING_STATUSES, type TrainingStatus, type TrainingTimeline } from '../metadata/pmf-metadata.js';
import { timelineOffences } from '../metadata/training-rules.js';
import { assertTransition } from './training-status.js';

export interface TrainingState {
  status?: TrainingStatus;
  startEpoch?: number | null;
  startTimestamp?: number | null;
  latestEpoch?: number | null;
  latestTimestamp?: number | null;
  endEpoch?: number | null;
  endTimestamp?: number | null;
}

/** Seconds since the Unix epoch, as Python's `time.time()` (what plums records). */
export type Clock = () => number;

const systemClock: Clock = () => Date.now() / 1000;

/**
 * Training metadata with its status machine (see `training-status.ts`).
 *
 * @example
 * const training = new Training();
 * training.start(0);
 * training.registerEpoch(); // latest epoch 1
 * training.end(); // finished at epoch 1
 */
export class Training {
  #status: TrainingStatus;
  #startEpoch: number | null;
  #startTimestamp: number | null;
  #latestEpoch: number | null;
  #latestTimestamp: number | null;
  #endEpoch: number | null;
  #endTimestamp: number | null;
  readonly #clock: Clock;

  /** Restores a state; a missing latest epoch/time defaults to the end one, then the start one. */
  constructor(state: TrainingState = {}, clock: Clock = systemClock) {
    const status = state.status ?? 'pending';
    if (!TRAINING_STATUSES.includes(status)) throw new PmfModelError('invalid-training', `Unknown status "${status}"`);
    const timeline: TrainingTimeline = {
      status,
      start_epoch: state.startEpoch ?? null,
      start_time: state.startTimestamp ?? null,
      latest_epoch: state.latestEpoch ?? state.endEpoch ?? state.startEpoch ?? null,
      latest_time: state.latestTimestamp ?? state.endTimestamp ?? state.startTimestamp ?? null,
      end_epoch: state.endEpoch ?? null,
      end_time: state.endTimestamp ?? null,
    };
    const offences = timelineOffences(timeline);
    if (offences.length > 0) {
      const reasons = offences.map(([, message]) => message).join('; ');
      throw new PmfModelError('invalid-training', `Invalid training state: ${reasons}`);
    }
    this.#status = status;
    this.#startEpoch = timeline.start_epoch;
    this.#startTimestamp = timeline.start_time;
    this.#latestEpoch = timeline.latest_epoch;
    this.#latestTimestamp = timeline.latest_time;
    this.#endEpoch = timeline.end_epoch;
    this.#endTimestamp = timeline.end_time;
    this.#clock = clock;
  }

  get status(): TrainingStatus {
    return this.#status;
  }
  get startEpoch(): number | null {
    return this.#startEpoch;
  }
  get startTimestamp(): number | null {
    return this.#startTimestamp;
  }
  get latestEpoch(): number | null {
    return this.#latestEpoch;
  }
  get latestTimestamp(): number | null {
    return this.#latestTimestamp;
  }
  get endEpoch(): number | null {
    return this.#endEpoch;
  }
  get endTimestamp(): number | null {
    return this.#endTimestamp;
  }
  get isPending(): boolean {
    return this.#status === 'pending';
  }
  get isRunning(): boolean {
    return this.#status === 'running';
  }
  get isFinished(): boolean {
    return this.#status === 'finished';
  }
  get isFailed(): boolean {
    return this.#status === 'failed';
  }

  /** Starts (or restarts) the training at `epoch`, now. */
  start(epoch: number): void {
    assertEpoch(epoch);
    assertTransition(this.#status, 'running');
    this.#status = 'running';
    this.#startEpoch = epoch;
    this.#startTimestamp = this.#clock();
    this.#latestEpoch = epoch;
    this.#latestTimestamp = this.#startTimestamp;
  }

  /**
   * Records `epoch` (default: the latest epoch + 1) as the latest, now. An epoch lower than
   * the latest one keeps the latest epoch and only refreshes its time.
   */
  registerEpoch(epoch?: number): void {
    if (this.#status !== 'running' || this.#latestEpoch === null) {
      throw new PmfModelError('invalid-training', `Cannot register an epoch: the training is ${this.#status}`);
    }
    if (epoch !== undefined) assertEpoch(epoch);
    this.#latestEpoch = epoch === undefined ? this.#latestEpoch + 1 : Math.max(this.#latestEpoch, epoch);
    this.#latestTimestamp = Math.max(this.#clock(), this.#latestTimestamp ?? 0);
  }

  /** Ends a running training normally at its latest epoch. */
  end(): void {
    assertTransition(this.#status, 'finished');
    this.#finish('finished');
  }

  /** Marks the training failed at its latest epoch (if it had started). */
  interrupt(): void {
    assertTransition(this.#status, 'failed');
    this.#finish('failed');
  }

  #finish(status: 'finished' | 'failed'): void {
    this.#status = status;
    this.#endEpoch = this.#latestEpoch;
    this.#endTimestamp = this.#latestTimestamp;
  }

  /** The training as written in metadata.yaml (without checkpoints). */
  toTimeline(): TrainingTimeline {
    return {
      status: this.#status,
      start_time: this.#startTimestamp,
      start_epoch: this.#startEpoch,
      latest_time: this.#latestTimestamp,
      latest_epoch: this.#latestEpoch,
      end_time: this.#endTimestamp,
      end_epoch: this.#endEpoch,
    };
  }

  /** A training from its metadata.yaml form. */
  static fromTimeline(timeline: TrainingTimeline, clock?: Clock): Training {
    return new Training(
      {
        status: timeline.status,
        startEpoch: timeline.start_epoch,
        startTimestamp: timeline.start_time,
        latestEpoch: timeline.latest_epoch,
        latestTimestamp: timeline.latest_time,
        endEpoch: timeline.end_epoch,
        endTimestamp: timeline.end_time,
      },
      clock,
    );
  }
}

function assertEpoch(epoch: number): void {
  if (!Number.isSafeInteger(epoch)) throw new PmfModelError('invalid-training', `Epoch ${epoch} is not an integer`);
}
