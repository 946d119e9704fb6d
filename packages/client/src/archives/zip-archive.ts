/**
 * `store(name, path, { zip: true })`: a file or a whole directory packed into one zip in a
 * temporary folder, to upload as a single file asset (Picsellia's `saved_model.zip`).
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ZipArchive } from 'archiver';

export interface ZippedPath {
  /** Where the zip was written. */
  path: string;
  /** `<name of what was zipped>.zip`. */
  filename: string;
  /** Removes the zip and its temporary folder. */
  remove(): Promise<void>;
}

export async function zipToTemporaryFile(source: string): Promise<ZippedPath> {
  const absolute = resolve(source);
  const info = await stat(absolute);
  const filename = `${basename(absolute) || 'archive'}.zip`;
  const directory = await mkdtemp(join(tmpdir(), 'larder-zip-'));
  const remove = () => rm(directory, { recursive: true, force: true });
  const path = join(directory, filename);
  try {
    const archive = new ZipArchive({ zlib: { level: 6 } });
    const written = pipeline(archive, createWriteStream(path));
    if (info.isDirectory()) archive.directory(absolute, false);
    else archive.file(absolute, { name: basename(absolute) });
    await Promise.all([written, archive.finalize()]);
    return { path, filename, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
