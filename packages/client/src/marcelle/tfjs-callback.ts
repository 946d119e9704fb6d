/**
 * The tfjs counterpart of Marcelle's Keras callback: pass it to `model.fit` and the run is
 * recorded locally and on the server — parameters (the run's and `fit`'s), each epoch's
 * logs, a checkpoint every `checkpointEvery` epochs and a final one.
 *
 * @example
 * const callback = marcelleCallback(model, { name: 'mlp', backendRoot, token, checkpointEvery: 2 });
 * await model.fit(xs, ys, { epochs: 6, callbacks: callback });
 * callback.writer.logFolder; // marcelle-logs/2024-05-01T10-00-00
 */
import { Writer, type WriterOptions } from './marcelle-writer.js';
import type { TfjsLayersModel } from './tfjs-types.js';

export interface MarcelleCallbackOptions extends WriterOptions {
  /** Save a checkpoint every N epochs (none when left out); a final one is always saved. */
  checkpointEvery?: number;
  /** Parameters of the run (hyperparameters…), recorded with `fit`'s own. */
  runParams?: Record<string, unknown>;
  loss?: unknown;
}

type Logs = Record<string, number | null | undefined>;

/** tfjs's `CustomCallbackArgs`, with the writer kept for the caller. */
export interface MarcelleCallback {
  writer: Writer;
  onTrainBegin(this: unknown, logs?: Logs): Promise<void>;
  onEpochEnd(epoch: number, logs?: Logs): Promise<void>;
  onTrainEnd(logs?: Logs): Promise<void>;
}

export function marcelleCallback(model: TfjsLayersModel, options: MarcelleCallbackOptions): MarcelleCallback {
  const writer = new Writer(options);
  return {
    writer,
    // tfjs calls these on its CustomCallback, whose `params` hold fit's epochs and samples.
    async onTrainBegin(this: unknown) {
      const fitParams = ((this as { params?: Record<string, unknown> } | undefined)?.params ?? {}) as Record<
        string,
        unknown
      >;
      await writer.createRun({
        model,
        runParams: { ...options.runParams, ...fitParams },
        ...(options.loss !== undefined ? { loss: options.loss } : {}),
      });
      await writer.trainBegin(typeof fitParams.epochs === 'number' ? fitParams.epochs : 0);
    },
    async onEpochEnd(epoch, logs = {}) {
      // tfjs counts epochs from 0; Marcelle's runs from 1.
      const every = options.checkpointEvery;
      const saveCheckpoint = every !== undefined && every > 0 && (epoch + 1) % every === 0;
      await writer.saveEpoch(epoch + 1, logs, { saveCheckpoint });
    },
    async onTrainEnd() {
      await writer.trainEnd({ saveCheckpoint: true });
    },
  };
}
