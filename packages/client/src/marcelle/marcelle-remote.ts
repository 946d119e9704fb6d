/**
 * `Remote`: a Marcelle run's link to a server (Larder, or Marcelle's own backend), speaking
 * the protocol of Marcelle's Python client: runs in `/runs`, model files through
 * `/<format>-models/upload` then a document in `/<format>-models`, assets through
 * `/assets/upload` then a document in `/assets`.
 *
 * @example
 * const remote = new Remote({ backendRoot: 'http://127.0.0.1:3030', token });
 * const run = await remote.create({ basename: 'mlp', source: 'tfjs', ... });
 * const checkpoint = await remote.uploadTfjsModel('logs/…/model_checkpoint_epoch=3', { name: `${run.name}@3` });
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { LarderError, toLarderError } from '@larder/protocol';
import { type ConnectionOptions, type ResolvedConnection, resolveConnection } from '../config/credentials.js';
import { DEFAULT_SERVER_URL, normalizeServerUrl } from '../config/default-server-url.js';
import { MODEL_JSON } from './tfjs-model-files.js';

export type SaveFormat = 'tfjs' | 'onnx';

export interface MarcelleRemoteOptions {
  /**
   * The server. Default: `$LARDER_URL`, else the credentials file's default server, else
   * `http://127.0.0.1:3030` (Marcelle's `localhost:3030`), as every SDK entry point.
   */
  backendRoot?: string;
  saveFormat?: SaveFormat;
  source?: string;
  /**
   * A JWT or a Larder API key, sent as `Authorization: Bearer`. Default: `$LARDER_TOKEN`,
   * else the token `~/.larder/credentials.json` keeps for the server; Marcelle's backends
   * without auth need none.
   */
  token?: string;
  /** Default `$LARDER_CREDENTIALS`, else `~/.larder/credentials.json`. */
  credentialsFile?: string;
  fetch?: typeof fetch;
}

export type Stored = Record<string, unknown> & { _id: string };

const MEDIA_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.wav': 'audio/wav',
  '.json': 'application/json',
};

export class Remote {
  readonly saveFormat: SaveFormat;
  readonly source: string;
  /** The run this remote writes to, once created or retrieved. */
  runId: string | undefined;
  readonly #connectionOptions: ConnectionOptions;
  readonly #fetch: typeof fetch;
  #backendRoot: string;
  #resolved: Promise<ResolvedConnection> | undefined;

  constructor(options: MarcelleRemoteOptions = {}) {
    this.saveFormat = options.saveFormat ?? 'tfjs';
    this.source = options.source ?? 'tfjs';
    this.#connectionOptions = {
      ...(options.backendRoot ? { url: options.backendRoot } : {}),
      ...(options.token ? { token: options.token } : {}),
      ...(options.credentialsFile ? { credentialsFile: options.credentialsFile } : {}),
    };
    this.#backendRoot = normalizeServerUrl(options.backendRoot ?? DEFAULT_SERVER_URL);
    this.#fetch = options.fetch ?? fetch;
  }

  /** The server's URL (resolved from the environment or credentials on the first call when not given). */
  get backendRoot(): string {
    return this.#backendRoot;
  }

  /** Creates the run, named `<basename>-<n+1>` after the latest run of that basename. */
  async create<T extends Record<string, unknown>>(runData: T): Promise<T & Stored> {
    const data: Record<string, unknown> = { ...runData };
    if (typeof data.basename === 'string') {
      const query = `basename=${encodeURIComponent(data.basename)}&$sort[createdAt]=-1&$select[]=name&$limit=1`;
      const latest = (await this.call('GET', `/runs?${query}`)) as { data: { name?: unknown }[] };
      const previous = Number(/-(\d+)$/.exec(String(latest.data[0]?.name ?? ''))?.[1] ?? 0);
      data.name = `${data.basename}-${previous + 1}`;
    }
    const created = (await this.call('POST', '/runs', data)) as T & Stored;
    this.runId = created._id;
    return created;
  }

  /** Sends the whole run again (`PATCH /runs/<id>`). */
  async update<T extends Record<string, unknown>>(runData: T): Promise<T & Stored> {
    if (!this.runId) throw new LarderError('BadRequest', 'Create or retrieve the run before updating it');
    const { _id: _ignored, ...fields } = runData;
    return (await this.call('PATCH', `/runs/${encodeURIComponent(this.runId)}`, fields)) as T & Stored;
  }

  /** Uploads a checkpoint saved locally: a tfjs folder (`tfjs`) or an ONNX file (`onnx`). */
  async uploadModel(path: string, localFormat: SaveFormat, metadata: Record<string, unknown> = {}): Promise<Stored> {
    if (localFormat !== this.saveFormat) {
      throw new LarderError(
        'BadRequest',
        `This remote uploads ${this.saveFormat} models; a ${localFormat} checkpoint cannot be converted here`,
      );
    }
    return localFormat === 'tfjs' ? this.uploadTfjsModel(path, metadata) : this.uploadOnnxModel(path, metadata);
  }

  /** Uploads `model.json` and its `.bin` files from a folder, then creates the model document. */
  async uploadTfjsModel(folder: string, metadata: Record<string, unknown> = {}): Promise<Stored> {
    const names = (await readdir(folder)).filter((name) => name === MODEL_JSON || name.endsWith('.bin')).sort();
    if (!names.includes(MODEL_JSON)) throw new LarderError('BadRequest', `${folder} holds no ${MODEL_JSON}`);
    const files = await Promise.all(names.map(async (name) => ({ name, bytes: await readFile(join(folder, name)) })));
    return this.uploadTfjsFiles(files, metadata);
  }

  /** Uploads tfjs files held in memory, then creates the model document. */
  async uploadTfjsFiles(files: { name: string; bytes: Uint8Array }[], metadata: Record<string, unknown> = {}) {
    const pairs = await this.upload('/tfjs-models/upload', files);
    return (await this.call('POST', '/tfjs-models', {
      metadata: { tfjsModelFormat: 'layers-model' },
      ...metadata,
      files: pairs,
      format: 'tfjs',
    })) as Stored;
  }

  async uploadOnnxModel(path: string, metadata: Record<string, unknown> = {}): Promise<Stored> {
    const file = path.endsWith('.onnx') ? path : `${path}.onnx`;
    const pairs = await this.upload('/onnx-models/upload', [{ name: basename(file), bytes: await readFile(file) }]);
    return (await this.call('POST', '/onnx-models', { ...metadata, files: pairs, format: 'onnx' })) as Stored;
  }

  /** Uploads a file (a picture, a sound…) and creates its asset document. */
  async uploadAsset(path: string, metadata: Record<string, unknown> = {}): Promise<Stored> {
    const filename = basename(path);
    const extension = extname(path).toLowerCase();
    const answer = (await this.upload('/assets/upload', [{ name: filename, bytes: await readFile(path) }])) as Record<
      string,
      string
    >;
    const url = answer[filename];
    if (!url) throw new LarderError('BadRequest', `The server did not keep ${filename}: ${JSON.stringify(answer)}`);
    return (await this.call('POST', '/assets', {
      ...metadata,
      filename,
      extension,
      mime: MEDIA_TYPES[extension] ?? 'application/octet-stream',
      url,
    })) as Stored;
  }

  /**
   * The run of this source that started at `start` (latest first), or undefined. Runs started
   * in the same second are told apart by `basename` when it is given.
   */
  async retrieveRun(start: string, basename?: string): Promise<Stored | undefined> {
    const named = basename === undefined ? '' : `&basename=${encodeURIComponent(basename)}`;
    const query = `source=${encodeURIComponent(this.source)}&start=${encodeURIComponent(start)}${named}&$sort[updatedAt]=-1`;
    const found = (await this.call('GET', `/runs?${query}`)) as { total: number; data: Stored[] };
    const run = found.data[0];
    if (run) this.runId = run._id;
    return run;
  }

  /**
   * Removes a run and the checkpoints it lists: true when the run was removed, false when
   * the server no longer had it (as Marcelle's `remove_run`).
   */
  async removeRun(runData: {
    _id: string;
    checkpoints?: { id?: string; _id?: string; service?: string }[];
  }): Promise<boolean> {
    for (const checkpoint of runData.checkpoints ?? []) {
      const id = checkpoint.id ?? checkpoint._id;
      if (!id) continue;
      const service = checkpoint.service ?? `${this.saveFormat}-models`;
      await this.call('DELETE', `/${service}/${encodeURIComponent(id)}`).catch((error: unknown) => {
        if (!(error instanceof LarderError && error.name === 'NotFound')) throw error;
      });
    }
    const removed = await this.call('DELETE', `/runs/${encodeURIComponent(runData._id)}`).then(
      () => true,
      (error: unknown) => {
        if (error instanceof LarderError && error.name === 'NotFound') return false;
        throw error;
      },
    );
    if (this.runId === runData._id) this.runId = undefined;
    return removed;
  }

  /** A multipart upload whose fields are named after the files, as Marcelle's servers expect. */
  private async upload(path: string, files: { name: string; bytes: Uint8Array }[]): Promise<unknown> {
    const form = new FormData();
    for (const file of files) form.append(file.name, new Blob([new Uint8Array(file.bytes)]), file.name);
    return this.send(path, { method: 'POST', body: form });
  }

  /** The bytes of a file route (`/tfjs-models/<id>/model.json`…), with this remote's credentials. */
  async download(path: string): Promise<Uint8Array> {
    const { url, token } = await this.#connection();
    const headers = new Headers();
    if (token) headers.set('authorization', `Bearer ${token}`);
    const response = await this.#fetch(`${url}${path}`, { headers });
    if (!response.ok)
      throw toLarderError({ message: `GET ${path} answered ${response.status}`, code: response.status });
    return new Uint8Array(await response.arrayBuffer());
  }

  /** One JSON call to the server (a Feathers REST route). */
  call(method: string, path: string, body?: unknown): Promise<unknown> {
    return this.send(path, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
  }

  private async send(path: string, init: RequestInit): Promise<unknown> {
    const { url, token } = await this.#connection();
    const headers = new Headers(init.headers);
    if (token) headers.set('authorization', `Bearer ${token}`);
    const response = await this.#fetch(`${url}${path}`, { ...init, headers });
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = { message: text.slice(0, 200) };
    }
    if (!response.ok) {
      // Feathers errors keep their name; Marcelle's upload routes answer `{ error }`.
      const answer = (body ?? {}) as { message?: unknown; error?: unknown };
      const message = String(answer.message ?? answer.error ?? `${init.method} ${path} answered ${response.status}`);
      throw toLarderError({ ...answer, message, code: response.status });
    }
    return body;
  }

  /** The URL and token, resolved once as every SDK entry point does (a failure is retried on the next call). */
  #connection(): Promise<ResolvedConnection> {
    this.#resolved ??= resolveConnection(this.#connectionOptions).then(
      (resolved) => {
        this.#backendRoot = resolved.url;
        return resolved;
      },
      (error: unknown) => {
        this.#resolved = undefined;
        throw error;
      },
    );
    return this.#resolved;
  }
}
