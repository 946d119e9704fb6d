/**
 * Packs that come from elsewhere: made from a list of objects (to push), and installed into
 * a repository's packs folder (after a pull), every object checked against its id first.
 */
import { hash as oneShotHash } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeIndex, type ScannedPack, scanPack } from './pack-format.js';
import { PackWriter, type SealedPack, syncFolder } from './pack-writer.js';

/**
 * Installs the pack file at `path` (moved, not copied) as `<sha256>.pack` with an index this
 * process builds by walking it; refuses a pack whose objects do not match their ids.
 * `checkedName` is the file's SHA-256 when the caller has just verified it (not hashed again),
 * and `scanned` what the caller found walking it as it wrote it (with `checkedName`, the
 * file is not read at all).
 */
export async function installPack(
  path: string,
  folder: string,
  durable: boolean,
  checkedName?: string,
  scanned?: ScannedPack,
): Promise<SealedPack> {
  let name = checkedName;
  let walked = scanned;
  if (name === undefined || walked === undefined) {
    const bytes = await readFile(path);
    name ??= oneShotHash('sha256', bytes, 'hex');
    walked ??= { entries: scanPack(bytes, path), size: bytes.length };
  }
  const { entries, size } = walked;
  const index = encodeIndex(entries, name, size);
  const indexPath = `${path}.idx.tmp`;
  const handle = await open(indexPath, 'w');
  try {
    await handle.writeFile(index);
    if (durable) await handle.sync();
  } finally {
    await handle.close();
  }
  if (durable) {
    const pack = await open(path, 'r');
    await pack.sync().finally(() => pack.close());
  }
  await rename(path, join(folder, `${name}.pack`));
  await rename(indexPath, join(folder, `${name}.idx`));
  if (durable) await syncFolder(folder);
  return { name, objects: entries.size, bytes: size, index, entries };
}

/**
 * Writes packs of at most `maxBytes` and `maxObjects` holding `hashes` (read, and so checked, through `read`)
 * into `scratch`, calling `send` with each finished one and deleting it afterwards.
 */
export async function sendInPacks(
  hashes: readonly string[],
  read: (hash: string) => Promise<Uint8Array>,
  scratch: string,
  maxBytes: number,
  maxObjects: number,
  send: (path: string, pack: SealedPack) => Promise<void>,
): Promise<void> {
  let writer: PackWriter | undefined;
  const flush = async (): Promise<void> => {
    if (writer === undefined) return;
    const path = join(scratch, `${Date.now()}-${Math.random().toString(16).slice(2)}.push.pack`);
    const sealed = await writer.finish(path);
    writer = undefined;
    try {
      await send(path, sealed);
    } finally {
      await rm(path, { force: true });
    }
  };
  for (const hash of hashes) {
    const bytes = await read(hash);
    writer ??= new PackWriter(scratch);
    await writer.add(hash, [bytes], bytes.byteLength);
    if (writer.size >= maxBytes || writer.count >= maxObjects) await flush();
  }
  await flush();
}
