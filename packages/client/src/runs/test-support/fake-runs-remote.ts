/**
 * An in-memory {@link RunsRemote} that keeps the server contract the SDK codes against:
 * conflict strategies by folder and name, altName re-uploads answered with the existing
 * record, per-series counts with already-held points ignored and gaps refused (409).
 * For unit tests of the local-first logic only; integration tests use the real server.
 */

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { LarderError } from '@larder/protocol';
import type { BlobRef } from '../../blobs/blob-client.js';
import type { RunLogsBody } from '../console-capture/console-log-upload.js';
import type { ConsoleChunk } from '../console-capture/console-log-writer.js';
import type { RunHistogramBody, RunImageBody } from '../media/run-media-upload.js';
import type { MetricSeries } from '../metric-log-reader.js';
import type { RunAlert } from '../run-alerts.js';
import type {
  ArtifactCreateBody,
  MetricSeriesBatch,
  MetricsAnswer,
  MetricsBody,
  RemotePath,
  RemoteRecord,
  RunCreateBody,
  RunPatchBody,
  RunsRemote,
} from '../runs-remote.js';

export interface StoredSeries {
  steps: number[];
  values: (number | null)[];
  epochs: (number | null)[];
  times: number[];
}

export class FakeRunsRemote implements RunsRemote {
  readonly server: string;
  readonly runs = new Map<string, RemoteRecord & { folder: string }>();
  readonly artifacts = new Map<string, RemoteRecord & { folder: string }>();
  readonly metrics = new Map<string, Map<string, StoredSeries>>();
  readonly blobs = new Map<string, Uint8Array>();
  readonly calls: { method: string; body: unknown }[] = [];
  /** Points received in `POST /metrics`, counting ignored ones too. */
  pointsReceived = 0;
  /** Makes the next `n` metric calls fail as if the network broke. */
  failNextMetricCalls = 0;
  /** Makes the next `n` alert calls fail as if the network broke. */
  failNextAlertCalls = 0;
  /** Accept at most this many points per series per call (a server that stops short). */
  acceptPerCall = Number.POSITIVE_INFINITY;
  #nextId = 1;

  constructor(
    server = 'http://fake.example',
    readonly user = 'ada@example.org',
  ) {
    this.server = server;
  }

  async createRun(body: RunCreateBody): Promise<RemoteRecord> {
    this.calls.push({ method: 'createRun', body });
    return this.#create(this.runs, body, { ...body, status: body.status });
  }

  async patchRun(id: string, body: RunPatchBody): Promise<RemoteRecord> {
    this.calls.push({ method: 'patchRun', body });
    const record = this.runs.get(id);
    if (!record) throw new LarderError('NotFound', `No run ${id}`);
    Object.assign(record, structuredClone(body));
    return record;
  }

  async appendMetrics(body: MetricsBody): Promise<MetricsAnswer> {
    this.calls.push({ method: 'appendMetrics', body });
    if (this.failNextMetricCalls > 0) {
      this.failNextMetricCalls--;
      throw new LarderError('Unavailable', 'The network broke');
    }
    if (!this.runs.has(body.run)) throw new LarderError('NotFound', `No run ${body.run}`);
    let byKey = this.metrics.get(body.run);
    if (!byKey) {
      byKey = new Map();
      this.metrics.set(body.run, byKey);
    }
    for (const batch of body.series) {
      const stored = byKey.get(`${batch.type}/${batch.name}`);
      if (batch.offset > (stored?.steps.length ?? 0)) {
        throw new LarderError('Conflict', `Offset ${batch.offset} of ${batch.type}/${batch.name} leaves a gap`);
      }
    }
    const answer: MetricsAnswer = { run: body.run, series: [] };
    for (const batch of body.series) {
      this.pointsReceived += batch.steps.length;
      const key = `${batch.type}/${batch.name}`;
      const stored = byKey.get(key) ?? { steps: [], values: [], epochs: [], times: [] };
      byKey.set(key, stored);
      this.#append(stored, batch);
      answer.series.push({ type: batch.type, name: batch.name, count: stored.steps.length });
    }
    return answer;
  }

  async uploadFile(path: string): Promise<BlobRef> {
    const bytes = new Uint8Array(await readFile(path));
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    this.blobs.set(sha256, bytes);
    return { sha256, size: bytes.byteLength };
  }

  readonly alerts: { runId: string; alert: RunAlert }[] = [];

  /** Media records by key, as the server derives ids from them (a resend stores nothing new). */
  readonly media = new Map<string, RunImageBody | RunHistogramBody>();
  /** Makes the next `n` media calls fail as if the network broke. */
  failNextMediaCalls = 0;

  async createRunImages(records: RunImageBody[]): Promise<void> {
    this.#createMedia('createRunImages', records);
  }

  async createRunHistograms(records: RunHistogramBody[]): Promise<void> {
    this.#createMedia('createRunHistograms', records);
  }

  #createMedia(method: string, records: (RunImageBody | RunHistogramBody)[]): void {
    this.calls.push({ method, body: records });
    if (this.failNextMediaCalls > 0) {
      this.failNextMediaCalls--;
      throw new LarderError('Unavailable', 'The network broke');
    }
    for (const record of records) {
      if (!this.runs.has(record.run)) throw new LarderError('NotFound', `No run ${record.run}`);
      if ('image' in record && !this.blobs.has(record.image.sha256)) {
        throw new LarderError('BadRequest', `Blob ${record.image.sha256} was not uploaded`);
      }
      if (!this.media.has(`${record.run}:${record.key}`))
        this.media.set(`${record.run}:${record.key}`, structuredClone(record));
    }
  }

  async readRunMedia(id: string) {
    const records = [...this.media.values()].filter((record) => record.run === id).map((r) => structuredClone(r));
    return {
      images: records.filter((r): r is RunImageBody => 'image' in r).map((r) => ({ ...r, _id: `${r.run}:${r.key}` })),
      histograms: records.filter((r): r is RunHistogramBody => !('image' in r)),
    };
  }

  async readRunImage(imageId: string): Promise<Uint8Array> {
    const record = this.media.get(imageId);
    const bytes = record && 'image' in record ? this.blobs.get(record.image.sha256) : undefined;
    if (!bytes) throw new LarderError('NotFound', `No run image ${imageId}`);
    return bytes;
  }

  async raiseAlert(runId: string, alert: RunAlert): Promise<void> {
    this.calls.push({ method: 'raiseAlert', body: alert });
    if (this.failNextAlertCalls > 0) {
      this.failNextAlertCalls--;
      throw new LarderError('Unavailable', 'The network broke');
    }
    if (!this.alerts.some((each) => each.alert.id === alert.id)) this.alerts.push({ runId, alert });
  }

  /** Console chunks by run, then chunk number (a resend stores nothing new, as on the server). */
  readonly runLogs = new Map<string, Map<number, RunLogsBody>>();

  async appendRunLogs(body: RunLogsBody): Promise<void> {
    this.calls.push({ method: 'appendRunLogs', body });
    const chunks = this.runLogs.get(body.run) ?? new Map<number, RunLogsBody>();
    this.runLogs.set(body.run, chunks);
    if (!chunks.has(body.seq)) chunks.set(body.seq, body);
  }

  async createArtifact(body: ArtifactCreateBody): Promise<RemoteRecord> {
    this.calls.push({ method: 'createArtifact', body });
    return this.#create(this.artifacts, body, { ...body });
  }

  async findRun(path: RemotePath): Promise<RemoteRecord | undefined> {
    return this.#find(this.runs, path);
  }

  async readRunMetrics(id: string): Promise<MetricSeries[]> {
    return [...(this.metrics.get(id) ?? new Map<string, StoredSeries>())].map(([key, stored]) => {
      const [type = '', name = ''] = key.split('/');
      return { type, name, ...structuredClone(stored) };
    });
  }

  async readRunLogs(id: string): Promise<ConsoleChunk[]> {
    const chunks = [...(this.runLogs.get(id)?.values() ?? [])].sort((a, b) => a.seq - b.seq);
    return chunks.map(({ run: _run, ...chunk }) => structuredClone(chunk));
  }

  async findArtifact(path: RemotePath): Promise<RemoteRecord | undefined> {
    return this.#find(this.artifacts, path);
  }

  async close(): Promise<void> {}

  /** The points the server holds for one series of a run. */
  series(runId: string, type: string, name: string): StoredSeries | undefined {
    return this.metrics.get(runId)?.get(`${type}/${name}`);
  }

  callsOf(method: string): unknown[] {
    return this.calls.filter((call) => call.method === method).map((call) => call.body);
  }

  #append(stored: StoredSeries, batch: MetricSeriesBatch): void {
    const skip = stored.steps.length - batch.offset;
    const end = Math.min(batch.steps.length, skip + this.acceptPerCall);
    for (let index = Math.max(0, skip); index < end; index++) {
      stored.steps.push(batch.steps[index]!);
      stored.values.push(batch.values[index]!);
      stored.epochs.push(batch.epochs?.[index] ?? null);
      stored.times.push(batch.times[index]!);
    }
  }

  #absolute(folder: string): string {
    return folder.startsWith('/') ? folder : `/${this.user}/${folder}`;
  }

  #create(
    table: Map<string, RemoteRecord & { folder: string }>,
    body: { name: string; altName: string; folder: string; conflictStrategy: string },
    fields: Record<string, unknown>,
  ): RemoteRecord {
    const folder = this.#absolute(body.folder);
    const records = [...table.values()];
    const same = records.find((each) => each.altName === body.altName);
    if (same) return same;
    let name = body.name;
    const clash = records.find((each) => each.folder === folder && each.name === body.name);
    if (clash) {
      if (body.conflictStrategy === 'skip') return clash;
      if (body.conflictStrategy === 'error') throw new LarderError('Conflict', `${folder}/${body.name} exists`);
      if (body.conflictStrategy === 'replace') table.delete(clash._id);
      if (body.conflictStrategy === 'new') name = body.altName;
    }
    const record = { ...structuredClone(fields), _id: `id${this.#nextId++}`, name, folder };
    table.set(record._id, record);
    return record;
  }

  #find(table: Map<string, RemoteRecord & { folder: string }>, path: RemotePath): RemoteRecord | undefined {
    const folder = this.#absolute(path.folder);
    return [...table.values()].find(
      (each) => each.folder === folder && (each.name === path.name || each.altName === path.name),
    );
  }
}
