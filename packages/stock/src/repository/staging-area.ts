/**
 * Changes written since the last commit, kept in `.stock/staging.json` between processes.
 * They are recorded as changes (key → new object hash, or null for a deletion) rather than a
 * whole tree, so they apply on top of whatever `head.stock` names at commit time, for example
 * after a `git checkout` moved it.
 */
import { readFile, rm } from 'node:fs/promises';
import { LarderError } from '@larder/protocol';
import { writeFileAtomically } from '../objects/atomic-file.js';
import { jsonString } from '../objects/canonical-json.js';
import type { DType } from '../tensor/dtypes.js';
import type { StockLayout } from './stock-layout.js';

export interface StagedChanges {
  /**
   * storage → key → object hash, or null when the key was deleted. Maps, not objects: a scope
   * may stage 100,000 samples, and a Map takes each new key for a fraction of an object's cost.
   */
  changes: Map<string, Map<string, string | null>>;
  /** dtypes of data columns created since the last commit. */
  columns: Record<string, DType>;
  /** Packs sealed since the last commit and not yet fsynced: the commit fsyncs them. */
  packs: string[];
}

export function emptyStaging(): StagedChanges {
  return { changes: new Map(), columns: {}, packs: [] };
}

export function hasChanges(staged: StagedChanges): boolean {
  for (const keys of staged.changes.values()) if (keys.size > 0) return true;
  return false;
}

/** Staged changes as this process last wrote them, with the exact text it wrote. */
export interface StagingSnapshot {
  text: string;
  staged: StagedChanges;
}

/**
 * The staged changes on disk. When the file holds exactly the text of `known` (this process
 * wrote it last, nobody replaced it since), `known.staged` is answered without parsing it
 * again: a scope that staged 100,000 samples is followed by a commit that would parse them.
 * The caller must not reuse `known` if it changed `known.staged` without saving it.
 */
export async function loadStaging(layout: StockLayout, known?: StagingSnapshot): Promise<StagedChanges> {
  let text: string;
  try {
    text = await readFile(layout.staging, 'utf8');
  } catch {
    return emptyStaging();
  }
  if (known !== undefined && text === known.text) return known.staged;
  try {
    const parsed = JSON.parse(text) as {
      changes?: Record<string, Record<string, string | null>>;
      columns?: StagedChanges['columns'];
      packs?: unknown;
    };
    const packs = Array.isArray(parsed.packs) ? parsed.packs.filter((name) => /^[0-9a-f]{64}$/.test(String(name))) : [];
    const changes = new Map<string, Map<string, string | null>>();
    for (const [storage, keys] of Object.entries(parsed.changes ?? {})) {
      if (keys === null || typeof keys !== 'object') throw new Error(`the changes of ${storage} are not an object`);
      changes.set(storage, new Map(Object.entries(keys)));
    }
    return { changes, columns: parsed.columns ?? {}, packs };
  } catch (cause) {
    throw new LarderError(
      'Unprocessable',
      `${layout.staging} is damaged; delete it to drop the uncommitted changes it held`,
      { cause },
    );
  }
}

/** Writes the staged changes (or removes the file when there are none); answers what it wrote. */
export async function saveStaging(layout: StockLayout, staged: StagedChanges): Promise<StagingSnapshot | undefined> {
  if (!hasChanges(staged) && Object.keys(staged.columns).length === 0) {
    await rm(layout.staging, { force: true });
    return undefined;
  }
  const text = stagingText(staged);
  await writeFileAtomically(layout.staging, text, layout.scratch);
  return { text, staged };
}

/** The file's JSON: `{"changes": {storage: {key: id | null}}, "columns": …, "packs": […]}`. */
function stagingText(staged: StagedChanges): string {
  const storages: string[] = [];
  for (const [storage, keys] of staged.changes) {
    const entries: string[] = [];
    for (const [key, hash] of keys) entries.push(`${jsonString(key)}:${hash === null ? 'null' : jsonString(hash)}`);
    storages.push(`${jsonString(storage)}:{${entries.join(',')}}`);
  }
  return `{"changes":{${storages.join(',')}},"columns":${JSON.stringify(staged.columns)},"packs":${JSON.stringify(staged.packs)}}`;
}
