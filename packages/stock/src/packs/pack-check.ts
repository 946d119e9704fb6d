/**
 * fsck for packs: checks every pack against its name and every object in it against its id,
 * and repairs what a crash can leave: a pack whose index never got written (the index is
 * renamed last), or an index that was damaged, is given a fresh index built by walking the
 * pack; a pack that does not walk is moved to `damaged/`; temporary files are removed.
 */
import { hash as oneShotHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from '../objects/atomic-file.js';
import { decodeIndex, encodeIndex, scanPack } from './pack-format.js';

export interface PackCheck {
  packs: number;
  objects: number;
  /** One sentence per problem found (empty when all is well). */
  problems: string[];
  /** What `repair` changed. */
  repaired: string[];
}

const PACK_FILE = /^([0-9a-f]{64})\.pack$/;

/** Checks (and with `repair`, mends) the packs folder. */
export async function checkPacks(folder: string, scratch: string, repair: boolean): Promise<PackCheck> {
  const result: PackCheck = { packs: 0, objects: 0, problems: [], repaired: [] };
  const names = await readdir(folder).catch(() => [] as string[]);
  for (const file of names.sort()) {
    const name = PACK_FILE.exec(file)?.[1];
    if (name === undefined) continue;
    result.packs += 1;
    const bytes = await readFile(join(folder, file));
    let entries: ReturnType<typeof scanPack>;
    try {
      const actual = oneShotHash('sha256', bytes, 'hex');
      if (actual !== name) throw new Error(`it hashes to ${actual.slice(0, 12)}, not its name`);
      entries = scanPack(bytes, file);
    } catch (error) {
      result.problems.push(`pack ${name.slice(0, 12)} is damaged: ${(error as Error).message}`);
      if (repair) {
        await mkdir(join(folder, 'damaged'), { recursive: true });
        for (const each of [`${name}.pack`, `${name}.idx`]) {
          await rename(join(folder, each), join(folder, 'damaged', each)).catch(() => {});
        }
        result.repaired.push(`moved pack ${name.slice(0, 12)} to damaged/ (restore its objects from another copy)`);
      }
      continue;
    }
    result.objects += entries.size;
    const indexPath = join(folder, `${name}.idx`);
    const expected = encodeIndex(entries, name, bytes.length);
    const present = await readFile(indexPath).catch(() => undefined);
    let why: string | undefined;
    if (present === undefined) why = 'has no index (a crash before it was written): its objects are not visible';
    else {
      try {
        decodeIndex(present, indexPath);
        if (!present.equals(expected)) why = 'has an index that does not match its contents';
      } catch (error) {
        why = `has a damaged index (${(error as Error).message})`;
      }
    }
    if (why === undefined) continue;
    result.problems.push(`pack ${name.slice(0, 12)} ${why}`);
    if (repair) {
      await writeFileAtomically(indexPath, [expected], scratch, true);
      result.repaired.push(`rebuilt the index of pack ${name.slice(0, 12)} (${entries.size} objects)`);
    }
  }
  if (repair) {
    for (const file of await readdir(scratch).catch(() => [] as string[])) {
      if (/\.(pack|idx)\.tmp$|\.push\.pack$/.test(file)) {
        await rm(join(scratch, file), { force: true });
        result.repaired.push(`removed the unfinished ${file}`);
      }
    }
  }
  return result;
}
