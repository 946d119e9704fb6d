/**
 * Saving a model as a PMF tree: check the destination, plan everything, then write. Files
 * whose content is already in place are left alone; metadata.yaml is written last.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PmfModelError } from '../errors/pmf-error.js';
import { copyIfChanged } from '../files/copy-if-changed.js';
import { fileKind, isMissing } from '../files/file-kind.js';
import { readMetadata } from '../metadata/read-metadata.js';
import { formatOffence } from '../validation/offence.js';
import type { Model } from './model.js';
import { type PlannedInitialisation, planSave, type SavePlan } from './save-plan.js';

/** What a save did. Paths are relative to the model root. */
export interface SaveReport {
  path: string;
  /** Files written because they were missing or different. */
  copied: string[];
  /** Files already present with the same content. */
  unchanged: string[];
}

/** Saves `model` at `root`; see `Model.save`. */
export async function saveModel(model: Model, root: string, force: boolean): Promise<SaveReport> {
  await checkDestination(root, model.id, force);
  const plan = await planSave(model, root, true);
  const report: SaveReport = { path: root, copied: [], unchanged: [] };
  await executePlan(plan, report, '');
  return report;
}

async function checkDestination(root: string, id: string, force: boolean): Promise<void> {
  const kind = await fileKind(root);
  if (kind === 'missing') return;
  if (kind !== 'directory') throw new PmfModelError('destination-is-file', `Cannot save to ${root}: it is a file`);
  const entries = await readdir(root);
  if (entries.length === 0) return;
  if (!entries.includes('metadata.yaml')) {
    if (force) return;
    throw new PmfModelError(
      'destination-not-empty',
      `Cannot save to ${root}: it is a non-empty directory without a PMF model (use force to save there anyway)`,
    );
  }
  const existing = await readMetadata(join(root, 'metadata.yaml'));
  if (existing.offences.length > 0 || existing.id === null) {
    const reasons = existing.offences.map((offence) => `\n  - ${formatOffence(offence)}`).join('');
    throw new PmfModelError(
      'destination-invalid-metadata',
      `Cannot save to ${root}: its metadata.yaml is not valid PMF metadata, so it is left untouched:${reasons}`,
    );
  }
  if (existing.id !== id) {
    throw new PmfModelError(
      'destination-different-model',
      `Cannot save model ${id} to ${root}: it holds another model (${existing.id})`,
    );
  }
  if (!force) {
    throw new PmfModelError(
      'destination-model-exists',
      `Cannot save to ${root}: it already holds model ${id} (use force to update it)`,
    );
  }
}

async function executePlan(plan: SavePlan, report: SaveReport, prefix: string): Promise<void> {
  await mkdir(join(plan.root, 'data', 'checkpoints'), { recursive: true });
  await mkdir(join(plan.root, 'data', 'initialisation'), { recursive: true });
  await prepareInitialisationDirectory(join(plan.root, 'data', 'initialisation'), plan.initialisation);

  const parameters = join(plan.root, 'data', 'build_parameters.yaml');
  if ((await readTextIfPresent(parameters)) === plan.buildParametersYaml) {
    report.unchanged.push(`${prefix}data/build_parameters.yaml`);
  } else {
    await writeFile(parameters, plan.buildParametersYaml);
    report.copied.push(`${prefix}data/build_parameters.yaml`);
  }

  for (const copy of plan.copies) {
    const copied = await copyIfChanged(copy.source, join(plan.root, copy.target), copy.hash);
    (copied ? report.copied : report.unchanged).push(`${prefix}${copy.target}`);
  }
  if (plan.initialisation.kind === 'pmf') {
    await executePlan(plan.initialisation.plan, report, `${prefix}data/initialisation/`);
  }

  // Written last and atomically: a reader never sees metadata describing files not yet copied.
  const metadata = join(plan.root, 'metadata.yaml');
  const temporary = join(plan.root, `.metadata.yaml.${process.pid}.tmp`);
  await writeFile(temporary, plan.metadataYaml);
  await rename(temporary, metadata);
  report.copied.push(`${prefix}metadata.yaml`);
}

/**
 * `data/initialisation` belongs to the model: whatever a previous save left there that does
 * not fit the new initialisation is removed, so the tree stays valid.
 */
async function prepareInitialisationDirectory(directory: string, planned: PlannedInitialisation): Promise<void> {
  const entries = await readdir(directory);
  let keep: (entry: string) => boolean = () => false;
  if (planned.kind === 'file') keep = (entry) => entry === planned.fileName;
  if (planned.kind === 'pmf' && entries.includes('metadata.yaml')) {
    const existing = await readMetadata(join(directory, 'metadata.yaml'));
    if (existing.id === planned.id) keep = () => true;
  }
  for (const entry of entries) {
    if (!keep(entry)) await rm(join(directory, entry), { recursive: true, force: true });
  }
}

async function readTextIfPresent(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}
