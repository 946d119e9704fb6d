import { describe, expect, it } from 'vitest';
import { suggestedColumns } from './runs-view.js';

const run = (hparams: Record<string, unknown>, metrics: Record<string, Record<string, unknown>> = {}) => ({
  hparams,
  metrics,
});
const summary = { last: 1, min: 0, max: 1, count: 3, step: 2 };

describe('the runs table’s first columns', () => {
  it('are the hparams that differ, then the last values of the metrics most runs have, validation first', () => {
    const runs = [
      run({ a: 1, batch: 32, lr: 0.1, net: { depth: 2 } }, { train: { loss: summary }, val: { acc: summary } }),
      run({ a: 1, batch: 32, lr: 0.01, net: { depth: 3 } }, { train: { loss: summary }, val: { acc: summary } }),
      run({ a: 1, batch: 32, lr: 0.01, net: { depth: 3 } }, { system: { cpu: summary }, train: { loss: summary } }),
    ];
    expect(suggestedColumns(runs)).toEqual([
      'hparams.lr',
      'hparams.net.depth',
      'metrics.train.loss.last',
      'metrics.val.acc.last',
    ]);
  });

  it('shows the hparams of a single run, since nothing differs', () => {
    expect(suggestedColumns([run({ a: 1, lr: 0.1 })])).toEqual(['hparams.a', 'hparams.lr']);
  });
});
