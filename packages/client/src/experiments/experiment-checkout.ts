/**
 * `checkout`: an experiment laid out locally, ready to train from:
 *
 * ```
 * <directory>/<experiment>/
 *   experiment.json          the record
 *   files/<name>/<filename>  file assets (withFiles)
 *   data/<name>.json         data logs as { name, type, data } (withData)
 *   checkpoints/ records/ config/ exported_model/ results/   (tree)
 * ```
 * With `tree`, `config*` files go to `config/`, `checkpoint*` to `checkpoints/` and
 * `model-latest` to `exported_model/`, as Picsellia's training scripts expect.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { DataStore } from '../datastore/data-store.js';
import { assertInside, localFilename, pathSegment, TREE_FOLDERS, treeFolderOf } from './checkout-paths.js';
import type { ExperimentRecord } from './experiment-types.js';
import { runFileRoute } from './run-file-route.js';

export interface CheckoutOptions {
  /** Where the experiment's folder is made; default the working directory. */
  directory?: string;
  /** Make Picsellia's training folders and sort the files into them. */
  tree?: boolean;
  /** Download every file asset. */
  withFiles?: boolean;
  /** Write every data log as JSON. */
  withData?: boolean;
}

export interface CheckoutResult {
  /** `<directory>/<experiment>`. */
  root: string;
  experiment: ExperimentRecord;
  /** File name → local path. */
  files: Record<string, string>;
  /** Data log name → local path. */
  data: Record<string, string>;
}

export async function checkoutExperiment(
  store: DataStore,
  experiment: ExperimentRecord,
  options: CheckoutOptions = {},
): Promise<CheckoutResult> {
  const base = resolve(options.directory ?? '.');
  const root = join(base, pathSegment(experiment.name));
  assertInside(base, root);
  await mkdir(root, { recursive: true });
  await writeFile(join(root, 'experiment.json'), `${JSON.stringify(experiment, null, 2)}\n`);
  if (options.tree) {
    for (const folder of TREE_FOLDERS) await mkdir(join(root, folder), { recursive: true });
  }
  const result: CheckoutResult = { root, experiment, files: {}, data: {} };

  if (options.withFiles) {
    const used = new Set<string>();
    for (const [name, file] of Object.entries(experiment.files ?? {})) {
      if (!file) continue;
      const filename = localFilename(file.filename, name);
      const treeFolder = options.tree ? treeFolderOf(name) : undefined;
      let path = treeFolder ? join(root, treeFolder, filename) : undefined;
      if (!path || used.has(path)) path = join(root, 'files', pathSegment(name), filename);
      assertInside(root, path);
      used.add(path);
      await mkdir(dirname(path), { recursive: true });
      await store.blobs.downloadRoute(runFileRoute(experiment._id, name, file.sha256), path, { sha256: file.sha256 });
      result.files[name] = path;
    }
  }

  if (options.withData) {
    const entries = Object.entries(experiment.dataLogs ?? {});
    if (entries.length > 0) await mkdir(join(root, 'data'), { recursive: true });
    for (const [name, log] of entries) {
      if (!log) continue;
      const path = join(root, 'data', `${pathSegment(name)}.json`);
      assertInside(root, path);
      await writeFile(path, `${JSON.stringify({ name, type: log.type, data: log.data }, null, 2)}\n`);
      result.data[name] = path;
    }
  }
  return result;
}
