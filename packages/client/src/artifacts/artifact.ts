/**
 * An artifact: a named set of files (copied into its local directory) and references to data
 * elsewhere, which runs read or write. Create one with {@link createArtifact}, open one with
 * {@link loadArtifact}.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { LarderError } from '@larder/protocol';
import { expectLocalPath } from '../local-files/expect-local-path.js';
import { type RemoteOptions, withRemote } from '../runs/data-store-runs-remote.js';
import { writeJsonFileSync } from '../runs/local-json-file.js';
import type { UploadTarget } from '../runs/runs-remote.js';
import { readUploadHistory } from '../runs/upload-history.js';
import { ARTIFACT_FILE, type ArtifactDocument, type ArtifactObject, FILES_DIR } from './artifact-document.js';
import { type ResourceUploadResult, uploadArtifactDirectory } from './artifact-uploader.js';
import { baseName, objectPath } from './object-path.js';

export class Artifact {
  /** The artifact's local directory. */
  readonly local: string;
  readonly #document: ArtifactDocument;
  /** Adds run one after another so the object list is saved in call order. */
  #queue: Promise<unknown> = Promise.resolve();

  /** @internal Use {@link createArtifact} or {@link loadArtifact}. */
  constructor(directory: string, document: ArtifactDocument) {
    this.local = directory;
    this.#document = document;
  }

  get name(): string {
    return this.#document.name;
  }
  get altName(): string {
    return this.#document.altName;
  }
  get labels(): readonly string[] {
    return this.#document.labels;
  }
  get description(): string {
    return this.#document.description;
  }
  get createdTime(): string {
    return this.#document.createdTime;
  }
  get objects(): readonly Readonly<ArtifactObject>[] {
    return this.#document.objects;
  }

  /**
   * Copies a file into the artifact. Without `objPath` it keeps its base name; an `objPath`
   * ending in `/` puts it in that directory; any other `objPath` is its full path.
   *
   * @example
   * await artifact.addFile('out/1.png');              // 1.png
   * await artifact.addFile('out/1.png', 'images/');   // images/1.png
   * await artifact.addFile('out/1.png', 'best.png');  // best.png
   */
  addFile(filePath: string, objPath?: string): Promise<void> {
    return this.#change(async () => {
      await expectLocalPath(filePath, 'file', { action: 'addFile', hint: 'use addDir for a directory' });
      const target = objectPath(filePath, objPath);
      this.#put(await this.#copy(filePath, target));
    });
  }

  /**
   * Copies every file under a directory, keeping its layout, under the directory's base name
   * (or as `objPath` says, with the same rules as {@link addFile}).
   *
   * @example
   * await artifact.addDir('logs/');          // logs/…
   * await artifact.addDir('logs/', 'tb/');   // tb/logs/…
   * await artifact.addDir('logs/', 'tb');    // tb/…
   */
  addDir(dirPath: string, objPath?: string): Promise<void> {
    return this.#change(async () => {
      await expectLocalPath(dirPath, 'directory', { action: 'addDir', hint: 'use addFile for a file' });
      const target = objectPath(dirPath, objPath);
      const entries = await readdir(dirPath, { recursive: true, withFileTypes: true });
      const files = entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
      files.sort();
      for (const file of files) {
        const inner = relative(dirPath, file).split(sep).join('/');
        this.#put(await this.#copy(file, `${target}/${inner}`));
      }
    });
  }

  /**
   * Records a URI as an object; nothing is copied. The object path defaults to the URI's
   * last segment.
   *
   * @example
   * await artifact.addReference('s3://bucket/datasets/mnist.tar', 'data/');  // data/mnist.tar
   */
  addReference(uri: string, objPath?: string): Promise<void> {
    return this.#change(async () => {
      if (baseName(uri) === '' && (objPath === undefined || objPath.endsWith('/'))) {
        throw new LarderError('BadRequest', `Give an objPath for ${uri}: it has no last segment to name the object`);
      }
      this.#put({ path: objectPath(uri, objPath), uri });
    });
  }

  /**
   * Uploads the artifact: its files' bytes, then its record. Uploading again is a no-op.
   *
   * @example
   * await artifact.upload({ folder: 'cv/mnist/artifacts', makeFolder: true });
   */
  async upload(options: UploadTarget & RemoteOptions = {}): Promise<ResourceUploadResult> {
    await this.#queue.catch(() => {});
    const { remote, connection, ...target } = options;
    return withRemote({ remote, connection }, (each) => uploadArtifactDirectory(this.local, each, target));
  }

  #change(work: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(async () => {
      if ((await readUploadHistory(this.local)).uploads.length > 0) {
        throw new LarderError(
          'BadRequest',
          `Artifact ${this.altName} was uploaded already and no longer changes; create a new artifact for more files`,
        );
      }
      await work();
      writeJsonFileSync(join(this.local, ARTIFACT_FILE), this.#document);
    });
    this.#queue = next.catch(() => {});
    return next;
  }

  #put(object: ArtifactObject): void {
    const objects = this.#document.objects;
    const at = objects.findIndex((each) => each.path === object.path);
    if (at >= 0) objects[at] = object;
    else objects.push(object);
  }

  async #copy(source: string, path: string): Promise<ArtifactObject> {
    const destination = join(this.local, FILES_DIR, ...path.split('/'));
    await mkdir(dirname(destination), { recursive: true });
    await copyFile(source, destination);
    const [sha256, { size }] = await Promise.all([hashFile(destination), stat(destination)]);
    return { path, sha256, size };
  }
}

function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
