/**
 * What this process and a folder have written: `wchar` of /proc/self/io (every byte passed to
 * write(), whatever the file) and the total size of the files under a folder.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Bytes this process has passed to write() so far (Linux). */
export async function bytesWrittenByProcess() {
  const io = await readFile('/proc/self/io', 'utf8');
  const match = /^wchar:\s+(\d+)$/m.exec(io);
  if (!match) throw new Error('No wchar in /proc/self/io');
  return Number(match[1]);
}

/** Files under `folder` (recursively) and their total size. */
export async function folderBytes(folder) {
  let files = 0;
  let bytes = 0;
  for (const entry of await readdir(folder, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    files += 1;
    bytes += (await stat(join(entry.parentPath ?? entry.path, entry.name))).size;
  }
  return { files, bytes };
}
