/**
 * `Uploader`: sends a run folder written by `Writer` (or the tfjs callback) to a server,
 * possibly long after training: it finds the run by its start, creates it when missing (or
 * again with `overwrite`), uploads the checkpoints and assets that have no server id yet,
 * sends the run, and writes the ids back into `run_data.json` so a second upload sends
 * nothing twice.
 *
 * @example
 * await new Uploader(new Remote({ backendRoot, token })).upload('marcelle-logs/2024-05-01T10-00-00');
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { LarderError } from '@larder/protocol';
import { readJsonFile, writeJsonFileSync } from '../runs/local-json-file.js';
import type { Remote } from './marcelle-remote.js';
import { RUN_DATA_FILE, type RunData } from './run-data.js';

export type UploadOutcome = 'created' | 'updated' | 'up-to-date';

export class Uploader {
  constructor(readonly remote: Remote) {}

  async upload(runDirectory: string, options: { overwrite?: boolean } = {}): Promise<UploadOutcome> {
    const folder = await stat(runDirectory).catch(() => undefined);
    if (!folder?.isDirectory()) throw new LarderError('BadRequest', `${runDirectory} is not a run folder`);
    const file = join(runDirectory, RUN_DATA_FILE);
    const run = (await readJsonFile(file)) as RunData | undefined;
    if (!run) throw new LarderError('BadRequest', `${runDirectory} holds no ${RUN_DATA_FILE}`);

    let existing = await this.remote.retrieveRun(run.start, run.basename);
    if (existing && options.overwrite) {
      await this.remote.removeRun(existing as Parameters<Remote['removeRun']>[0]);
      existing = undefined;
    }
    if (existing && Object.keys(run).every((key) => isDeepStrictEqual(run[key], existing?.[key]))) return 'up-to-date';

    const fresh = existing === undefined;
    if (fresh) {
      for (const checkpoint of run.checkpoints) delete checkpoint.id;
      for (const asset of run.assets) delete asset.id;
      const created = await this.remote.create(run);
      const name = String(created.name);
      for (const checkpoint of run.checkpoints) checkpoint.name = `${name}@${checkpoint.metadata.epoch}`;
      run.name = name;
    }
    for (const checkpoint of run.checkpoints) {
      if (checkpoint.id) continue;
      const stored = await this.remote.uploadModel(checkpoint.metadata.local_path, this.remote.saveFormat, {
        name: checkpoint.name,
        metadata: { tfjsModelFormat: 'layers-model', ...checkpoint.metadata },
      });
      checkpoint.id = stored._id;
      checkpoint.service = `${this.remote.saveFormat}-models`;
    }
    for (const asset of run.assets) {
      if (asset.id) continue;
      const stored = await this.remote.uploadAsset(asset.local_path, {
        epoch: asset.epoch,
        local_path: asset.local_path,
      });
      asset.id = stored._id;
      asset.url = String(stored.url);
    }
    await this.remote.update(run);
    writeJsonFileSync(file, run);
    return fresh ? 'created' : 'updated';
  }
}
