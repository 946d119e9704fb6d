import { describe, expect, it } from 'vitest';
import { PmfModelError } from '../errors/pmf-error.js';
import type { TrainingStatus } from '../metadata/pmf-metadata.js';
import { steppingClock } from '../test-support/fixtures.js';
import { Training } from './training.js';
import { canTransition } from './training-status.js';

const STATUSES: TrainingStatus[] = ['pending', 'running', 'finished', 'failed'];

describe('the training status machine', () => {
  const allowed = new Set([
    'pending>pending',
    'pending>running',
    'pending>failed',
    'running>running',
    'running>finished',
    'running>failed',
    'failed>failed',
  ]);
  for (const from of STATUSES) {
    for (const to of STATUSES) {
      const expected = allowed.has(`${from}>${to}`);
      it(`${expected ? 'allows' : 'forbids'} ${from} → ${to}`, () => {
        expect(canTransition(from, to)).toBe(expected);
      });
    }
  }
});

describe('Training', () => {
  it('starts pending with no times or epochs', () => {
    const training = new Training();
    expect(training.status).toBe('pending');
    expect(training.isPending).toBe(true);
    expect([training.startEpoch, training.latestEpoch, training.endEpoch, training.startTimestamp]).toEqual([
      null,
      null,
      null,
      null,
    ]);
  });

  it('records start, epochs and end with their times', () => {
    let now = 100;
    const training = new Training({}, () => (now += 10));
    training.start(3);
    expect(training.isRunning).toBe(true);
    expect([training.startEpoch, training.latestEpoch, training.startTimestamp, training.latestTimestamp]).toEqual([
      3, 3, 110, 110,
    ]);
    training.registerEpoch();
    expect([training.latestEpoch, training.latestTimestamp]).toEqual([4, 120]);
    training.registerEpoch(9);
    training.registerEpoch(5); // lower than the latest: keeps 9, refreshes the time
    expect([training.latestEpoch, training.latestTimestamp]).toEqual([9, 140]);
    training.end();
    expect(training.isFinished).toBe(true);
    expect([training.endEpoch, training.endTimestamp]).toEqual([9, 140]);
  });

  it('records a failure at the latest epoch', () => {
    const training = new Training({}, steppingClock);
    training.start(0);
    training.registerEpoch(2);
    training.interrupt();
    expect(training.isFailed).toBe(true);
    expect(training.endEpoch).toBe(2);
    expect(training.endTimestamp).toBe(training.latestTimestamp);
  });

  it('refuses to finish a pending training, restart a finished one or fail a finished one', () => {
    expect(() => new Training().end()).toThrow(/only a running training can finish/);
    const finished = new Training({}, steppingClock);
    finished.start(0);
    finished.end();
    expect(() => finished.start(1)).toThrow(PmfModelError);
    expect(() => finished.interrupt()).toThrow(/a finished training cannot fail/);
    expect(finished.status).toBe('finished');
  });

  it('refuses to register epochs unless running', () => {
    expect(() => new Training().registerEpoch()).toThrow(/training is pending/);
    expect(() => new Training({ status: 'running', startEpoch: 0, startTimestamp: 1 }).registerEpoch(1.5)).toThrow(
      /not an integer/,
    );
  });

  it('restores a state, defaulting latest to end then start', () => {
    const ended = new Training({ status: 'finished', startEpoch: 0, startTimestamp: 1, endEpoch: 5, endTimestamp: 9 });
    expect([ended.latestEpoch, ended.latestTimestamp]).toEqual([5, 9]);
    const started = new Training({ status: 'running', startEpoch: 2, startTimestamp: 7 });
    expect([started.latestEpoch, started.latestTimestamp]).toEqual([2, 7]);
  });

  it.each([
    [{ status: 'pending', startEpoch: 0, startTimestamp: 1 }, /while the status is pending/],
    [
      { status: 'running', startEpoch: 0, startTimestamp: 1, endEpoch: 1, endTimestamp: 2 },
      /while the status is running/,
    ],
    [{ status: 'running', startEpoch: 0 }, /start_epoch is set without a start_time/],
    [
      { status: 'finished', startEpoch: 5, startTimestamp: 1, latestEpoch: 2, latestTimestamp: 2 },
      /before start_epoch/,
    ],
    [{ status: 'bogus' }, /Unknown status/],
  ])('refuses an inconsistent state %j', (state, message) => {
    expect(() => new Training(state as never)).toThrow(message);
  });
});
