/**
 * {@link RunsRemote} over a Larder server: the `runs`, `metrics` and `artifacts` services of
 * a {@link DataStore} and its blob client.
 */

import { encodeMetricColumns, LarderError, METRIC_COLUMNS_TYPE } from '@larder/protocol';
import type { BlobRef } from '../blobs/blob-client.js';
import { resolveConnection } from '../config/credentials.js';
import { DataStore, type DataStoreOptions } from '../datastore/data-store.js';
import { errorFromAnswer } from '../datastore/rest-transport.js';
import type { Paginated } from '../datastore/service-types.js';
import type { RunLogsBody } from './console-capture/console-log-upload.js';
import type { ConsoleChunk } from './console-capture/console-log-writer.js';
import type { RunHistogramBody, RunImageBody } from './media/run-media-upload.js';
import type { MetricSeries } from './metric-log-reader.js';
import type { RunAlert } from './run-alerts.js';
import type {
  ArtifactCreateBody,
  MetricsAnswer,
  MetricsBody,
  RemotePath,
  RemoteRecord,
  RunCreateBody,
  RunPatchBody,
  RunsRemote,
} from './runs-remote.js';

export class DataStoreRunsRemote implements RunsRemote {
  readonly server: string;
  readonly #store: DataStore;
  readonly #email: string | undefined;
  readonly #ownsStore: boolean;
  #home: Promise<string> | undefined;

  /**
   * Connects as the options, environment or credentials file say (see {@link resolveConnection}).
   *
   * @example
   * const remote = await DataStoreRunsRemote.connect({ url: 'http://127.0.0.1:3030' });
   * await run.upload({ remote, folder: 'mnist' });
   * await remote.close();
   */
  static async connect(options: DataStoreOptions = {}): Promise<DataStoreRunsRemote> {
    const connection = await resolveConnection(options);
    return new DataStoreRunsRemote(new DataStore(options), connection.url, connection.email, true);
  }

  /** Uses `store`, which the caller keeps and closes; `server` is its URL. */
  constructor(store: DataStore, server: string, email?: string, ownsStore = false) {
    this.#store = store;
    this.server = server;
    this.#email = email;
    this.#ownsStore = ownsStore;
  }

  createRun(body: RunCreateBody): Promise<RemoteRecord> {
    return this.#store.service<RemoteRecord, RunCreateBody>('runs').create(body);
  }

  async raiseAlert(runId: string, alert: RunAlert): Promise<void> {
    await this.#store.service('run-alerts').create({ run: runId, ...alert });
  }

  async appendRunLogs(body: RunLogsBody): Promise<void> {
    await this.#store.service<RemoteRecord, RunLogsBody>('run-logs').create(body);
  }

  async createRunImages(records: RunImageBody[]): Promise<void> {
    await this.#store.service<RemoteRecord, RunImageBody>('run-images').create(records);
  }

  async createRunHistograms(records: RunHistogramBody[]): Promise<void> {
    await this.#store.service<RemoteRecord, RunHistogramBody>('run-histograms').create(records);
  }

  async readRunMedia(id: string) {
    const all = async <T>(service: string): Promise<T[]> => {
      const records: T[] = [];
      for (;;) {
        const page = (await this.#store
          .service<RemoteRecord>(service)
          .find({ query: { run: id, $limit: 10_000, $skip: records.length } })) as unknown as Paginated<T>;
        records.push(...page.data);
        if (page.data.length === 0 || records.length >= page.total) return records;
      }
    };
    return {
      images: await all<RunImageBody & { _id: string }>('run-images'),
      histograms: await all<RunHistogramBody>('run-histograms'),
    };
  }

  async readRunImage(imageId: string): Promise<Uint8Array> {
    const response = await this.#store.request(`/run-images/${encodeURIComponent(imageId)}/file`);
    if (!response.ok) throw errorFromAnswer('GET', response.url, response.status, await response.text());
    return new Uint8Array(await response.arrayBuffer());
  }

  patchRun(id: string, body: RunPatchBody): Promise<RemoteRecord> {
    return this.#store.service<RemoteRecord, RunPatchBody>('runs').patch(id, body);
  }

  /** Sends points as binary columns: a copy per point, where JSON costs a number's text both ways. */
  async appendMetrics(body: MetricsBody): Promise<MetricsAnswer> {
    const columns = encodeMetricColumns(
      body.run,
      body.series.map((series) => ({
        type: series.type,
        name: series.name,
        offset: series.offset,
        steps: series.steps,
        values: series.values,
        epochs: series.epochs ?? undefined,
        times: series.times,
      })),
    );
    const response = await this.#store.request('/metrics', {
      method: 'POST',
      headers: { 'content-type': METRIC_COLUMNS_TYPE, accept: 'application/json' },
      body: columns as unknown as RequestInit['body'],
    });
    const text = await response.text();
    if (response.status !== 201) throw errorFromAnswer('POST', response.url, response.status, text);
    return JSON.parse(text) as MetricsAnswer;
  }

  uploadFile(path: string): Promise<BlobRef> {
    return this.#store.blobs.upload(path);
  }

  createArtifact(body: ArtifactCreateBody): Promise<RemoteRecord> {
    return this.#store.service<RemoteRecord, ArtifactCreateBody>('artifacts').create(body);
  }

  findRun(path: RemotePath): Promise<RemoteRecord | undefined> {
    return this.#find('runs', path);
  }

  async readRunMetrics(id: string): Promise<MetricSeries[]> {
    const metrics = this.#store.service<never>('metrics');
    const list = (await metrics.find({ query: { run: id } })) as unknown as { type: string; name: string }[];
    const series: MetricSeries[] = [];
    for (const { type, name } of list) {
      const points = (await metrics.find({
        query: { run: id, type, name, raw: 'true', withTimes: 'true' },
      })) as unknown as Omit<MetricSeries, 'type' | 'name'>;
      series.push({
        type,
        name,
        steps: points.steps,
        values: points.values,
        epochs: points.epochs,
        times: points.times,
      });
    }
    return series;
  }

  async readRunLogs(id: string): Promise<ConsoleChunk[]> {
    const logs = this.#store.service<never>('run-logs');
    const chunks: ConsoleChunk[] = [];
    for (let after = -1; ; ) {
      const page = (await logs.find({ query: { run: id, after, limit: 200 } })) as unknown as {
        chunks: ConsoleChunk[];
        next: number | null;
      };
      chunks.push(...page.chunks);
      if (page.next === null) return chunks;
      after = page.next;
    }
  }

  findArtifact(path: RemotePath): Promise<RemoteRecord | undefined> {
    return this.#find('artifacts', path);
  }

  async close(): Promise<void> {
    if (this.#ownsStore) await this.#store.close();
  }

  async #find(service: string, { folder, name }: RemotePath): Promise<RemoteRecord | undefined> {
    // The server resolves relative folders on writes only; a query names the folder in full.
    const absolute = folder.startsWith('/') ? folder : `${await this.#homeFolder()}/${folder}`;
    const page: Paginated<RemoteRecord> | RemoteRecord[] = await this.#store
      .service<RemoteRecord>(service)
      .find({ query: { folder: absolute, $or: [{ name }, { altName: name }], $limit: 1 } });
    return Array.isArray(page) ? page[0] : page.data[0];
  }

  /** `/<e-mail>` of the caller, or `/local` on a server without auth (asked once). */
  #homeFolder(): Promise<string> {
    if (this.#email) return Promise.resolve(`/${this.#email}`);
    this.#home ??= this.#store.request('/whoami').then(async (response) => {
      const text = await response.text();
      if (!response.ok) throw errorFromAnswer('GET', response.url, response.status, text);
      const me = JSON.parse(text) as { auth?: boolean; user?: { email?: string } | null };
      if (me.user?.email) return `/${me.user.email}`;
      if (me.auth === false) return '/local';
      throw new LarderError('NotAuthenticated', 'Sign in (larder login) to find runs by a path relative to your home');
    });
    this.#home.catch(() => {
      this.#home = undefined;
    });
    return this.#home;
  }
}

/** Options that say which server an upload or load talks to. */
export interface RemoteOptions {
  /** Use this remote (it stays open); otherwise one is connected for the call and closed after. */
  remote?: RunsRemote;
  /** How to connect when `remote` is not given. */
  connection?: DataStoreOptions;
}

/** Runs `work` with the remote the options name, closing it afterwards if it was opened here. */
export async function withRemote<T>(options: RemoteOptions, work: (remote: RunsRemote) => Promise<T>): Promise<T> {
  if (options.remote) return work(options.remote);
  const remote = await DataStoreRunsRemote.connect(options.connection);
  try {
    return await work(remote);
  } finally {
    await remote.close();
  }
}
