/**
 * Uploads a run directory to one server, resumably: the record is created once (its id kept
 * in `remote.json`), metric points are read from the local metric log and sent in large batches
 * from the per-series count the server last acknowledged, and metadata is patched only when
 * it changed. Interrupted at any point, the next `sync()` (in this process or another one)
 * continues without losing or duplicating a point; a second upload of an unchanged run sends
 * nothing.
 *
 * The live run shares this path: its background uploader tails the same file its writer
 * appends to, and is handed the chunks of each write as it becomes durable ({@link offer}),
 * so it sends them without reading them back; whatever it was not handed (or handed too
 * late) it reads from the file.
 */

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LarderError } from '@larder/protocol';
import { uploadArtifactDirectory } from '../artifacts/artifact-uploader.js';
import { uploadConsoleLog } from './console-capture/console-log-upload.js';
import { uploadRunMedia } from './media/run-media-upload.js';
import { type MetricChunk, seriesKey } from './metric-chunk.js';
import { readMetricLog } from './metric-log-reader.js';
import type { DurableChunks } from './metric-log-writer.js';
import { PendingPoints } from './pending-points.js';
import { type RunAlert, readAlerts } from './run-alerts.js';
import {
  type Association,
  isLocalAssociation,
  metricLogPath,
  type RunDocument,
  type RunFiles,
  readRunFiles,
} from './run-document.js';
import type {
  Associations,
  MetricSeriesBatch,
  ResourceRef,
  RunPatchBody,
  RunsRemote,
  UploadTarget,
} from './runs-remote.js';
import { type ResolvedTarget, uploadTarget } from './runs-remote.js';
import { findUploadRecord, HISTORY_FILE, saveUploadRecord, type UploadRecord } from './upload-history.js';

export interface RunUploadResult {
  id: string;
  skipped: boolean;
  /** Whether this call created the server record. */
  created: boolean;
  /** Points this call sent that the server did not hold before. */
  pointsSent: number;
}

export interface RunUploaderOptions {
  /** Most points in one `POST /metrics`. Default 50 000. */
  batchPoints?: number;
}

/**
 * Milliseconds between saves of the acknowledged counts during a sync (each save is an
 * fsync). Counts older than the server's only make a later sync resend points the server
 * skips; a sync that ends, or fails, saves them at once.
 */
const SAVE_INTERVAL_MS = 1000;

/** Points handed over by the writer kept at most; past that the file is read instead. */
const MAX_OFFERED_POINTS = 4_000_000;

export class RunUploader {
  readonly directory: string;
  readonly remote: RunsRemote;
  readonly #batchPoints: number;
  /** Acknowledged points per series key. */
  readonly #counts = new Map<string, number>();
  readonly #pending = new Map<string, PendingPoints>();
  #pendingPoints = 0;
  /** Byte position in the metric log up to which chunks are in `#pending` or acknowledged. */
  #readFrom = 0;
  #record: UploadRecord | undefined;
  #running: Promise<unknown> = Promise.resolve();
  /** Durable writes handed over by the live run's writer, in file order, not yet taken. */
  #offered: DurableChunks[] = [];
  #offeredPoints = 0;
  /** When the record was last saved, and whether acknowledgements came since. */
  #savedAt = 0;
  #unsaved = false;

  constructor(directory: string, remote: RunsRemote, options: RunUploaderOptions = {}) {
    this.directory = directory;
    this.remote = remote;
    this.#batchPoints = options.batchPoints ?? 50_000;
  }

  /**
   * Hands over lines the writer just made durable (bytes `from` to `to` of the log), for the
   * next sync to send without reading them back. Too much unsent (the server is down) and
   * the oldest are dropped: the file still holds them. Answers whether a full batch waits.
   */
  offer(written: DurableChunks): boolean {
    this.#offered.push(written);
    for (const chunk of written.chunks) this.#offeredPoints += chunk.steps.length;
    while (this.#offeredPoints > MAX_OFFERED_POINTS && this.#offered.length > 0) this.#dropOffered();
    return this.#offeredPoints >= this.#batchPoints;
  }

  #dropOffered(): void {
    const dropped = this.#offered.shift();
    for (const chunk of dropped?.chunks ?? []) this.#offeredPoints -= chunk.steps.length;
  }

  #dropOfferedBefore(position: number): void {
    while (this.#offered.length > 0 && (this.#offered[0] as DurableChunks).from < position) this.#dropOffered();
  }

  /** The offered write that starts where reading stands, if any; older ones are discarded. */
  #takeOffered(): DurableChunks | undefined {
    this.#dropOfferedBefore(this.#readFrom);
    const next = this.#offered[0];
    if (next?.from !== this.#readFrom) return undefined;
    this.#dropOffered();
    return next;
  }

  /** Uploads what is new since the last sync; calls run one at a time. */
  sync(target: UploadTarget = {}, visiting: Set<string> = new Set()): Promise<RunUploadResult> {
    const next = this.#running.then(() => this.#sync(target, visiting));
    this.#running = next.catch(() => {});
    return next;
  }

  /**
   * Sends what the live run's writer handed over (or logged) in full batches only, keeping a
   * smaller rest for later: fewer, larger batches, so the server appends whole chunks instead
   * of rewriting a partial one per series for every small batch. Before the run's first
   * sync it is a whole sync. Answers the points sent.
   */
  sendFullBatches(target: UploadTarget = {}): Promise<number> {
    const next = this.#running.then(async () => {
      const record = this.#record;
      if (!record) return (await this.#sync(target, new Set())).pointsSent;
      return this.#uploadMetrics(record.id, target.onProgress, true);
    });
    this.#running = next.catch(() => {});
    return next;
  }

  async #sync(target: UploadTarget, visiting: Set<string>): Promise<RunUploadResult> {
    visiting.add(this.directory);
    const files = await readRunFiles(this.directory);
    if (!files) throw new LarderError('NotFound', `${this.directory} holds no run.json`);
    const resolved = uploadTarget({ ...files.document.upload, ...definedOnly(target) });
    let created = false;
    if (!this.#record) {
      this.#record = await findUploadRecord(this.directory, this.remote.server);
      for (const each of this.#record?.series ?? []) this.#counts.set(seriesKey(each.type, each.name), each.count);
      this.#readFrom = await this.#acknowledgedBytes(this.#record);
    }
    if (!this.#record) {
      const { document, hparams, platform, git } = files;
      const answer = await this.remote.createRun({
        name: document.name,
        altName: document.altName,
        ...resolved,
        status: document.status,
        labels: document.labels,
        description: document.description,
        hparams,
        platform,
        git,
        startTime: document.startTime,
        ...(document.endTime ? { endTime: document.endTime } : {}),
        associations: await this.#associations(document.associations, resolved, visiting, false),
      });
      if (answer.altName !== undefined && answer.altName !== document.altName) {
        // `skip` kept another run of this name: this one's points do not belong there.
        return { id: answer._id, skipped: true, created: false, pointsSent: 0 };
      }
      created = true;
      this.#record = {
        server: this.remote.server,
        id: answer._id,
        folder: resolved.folder,
        uploadedAt: new Date().toISOString(),
        series: [],
      };
      await this.#save();
    }
    const record = this.#record;
    try {
      const pointsSent = await this.#uploadMetrics(record.id, target.onProgress);
      await this.#patchMetadata(record, files, resolved, visiting);
      await this.#sendAlerts(record);
      await uploadConsoleLog(this.directory, this.remote, record, () => this.#save());
      await uploadRunMedia(this.directory, this.remote, record, () => this.#save());
      return { id: record.id, skipped: false, created, pointsSent };
    } catch (error) {
      if (created || !(error instanceof LarderError && error.name === 'NotFound')) throw error;
      throw new LarderError(
        'NotFound',
        `${this.directory}: run ${record.id}, where it was uploaded to ${record.folder} on ${record.server}, is gone (removed, or replaced by another run with conflict "replace"); delete ${join(this.directory, HISTORY_FILE)} to upload it as a new run`,
        { cause: error },
      );
    }
  }

  /** Sends the alerts raised since the last sync, one by one, remembering each as it lands. */
  async #sendAlerts(record: UploadRecord): Promise<void> {
    const alerts = await readAlerts(this.directory);
    for (let index = record.alertsSent ?? 0; index < alerts.length; index += 1) {
      await this.remote.raiseAlert(record.id, alerts[index] as RunAlert);
      record.alertsSent = index + 1;
      await this.#save();
    }
  }

  /** Where reading the log resumes: after what the server is known to hold, if the log still has it. */
  async #acknowledgedBytes(record: UploadRecord | undefined): Promise<number> {
    const bytes = record?.logBytes;
    if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes <= 0) return 0;
    const size = (await stat(metricLogPath(this.directory)).catch(() => undefined))?.size ?? 0;
    return bytes <= size ? bytes : 0;
  }

  async #uploadMetrics(runId: string, onProgress?: UploadTarget['onProgress'], fullOnly = false): Promise<number> {
    try {
      return await this.#uploadMetricsFromFile(runId, onProgress, fullOnly);
    } catch (error) {
      if (!(error instanceof LarderError && error.name === 'Conflict')) throw error;
      // The server holds fewer points than recorded here (a gap): resend from the start;
      // it ignores the points it already has.
      this.#counts.clear();
      this.#pending.clear();
      this.#pendingPoints = 0;
      this.#readFrom = 0;
      return this.#uploadMetricsFromFile(runId, onProgress, fullOnly);
    }
  }

  async #uploadMetricsFromFile(
    runId: string,
    onProgress: UploadTarget['onProgress'] | undefined,
    fullOnly: boolean,
  ): Promise<number> {
    const path = metricLogPath(this.directory);
    const bytesTotal = onProgress ? ((await stat(path).catch(() => undefined))?.size ?? 0) : 0;
    const report = (sentSoFar: number) =>
      onProgress?.({
        directory: this.directory,
        bytesRead: Math.min(this.#readFrom, bytesTotal),
        bytesTotal,
        pointsSent: sentSoFar,
      });
    let sent = 0;
    let next: ReturnType<typeof readMetricLog> | undefined;
    for (;;) {
      const offered = next ? undefined : this.#takeOffered();
      let atEnd: boolean;
      if (offered) {
        for (const chunk of offered.chunks) this.#addPending(chunk);
        this.#readFrom = offered.to;
        atEnd = this.#offered.length === 0;
      } else {
        const slice = await (next ?? readMetricLog(path, { from: this.#readFrom }));
        next = undefined;
        for (const chunk of slice.chunks) this.#addPending(chunk);
        this.#readFrom = slice.end;
        atEnd = slice.atEnd;
        // Read and decode the next slice while this one's batches are on the wire.
        if (!atEnd) next = readMetricLog(path, { from: slice.end });
        // At the end of the file every durable write was read: what was offered is old.
        else this.#dropOfferedBefore(this.#readFrom);
      }
      try {
        while (this.#pendingPoints >= this.#batchPoints || (atEnd && !fullOnly && this.#pendingPoints > 0)) {
          sent += await this.#sendBatch(runId);
          report(sent);
        }
      } catch (error) {
        if (next) await next.catch(() => {});
        if (this.#unsaved) await this.#save();
        throw error;
      }
      // Writes made durable while the last batch was on the wire are sent in this sync too.
      if (atEnd && this.#offered.length === 0) {
        if (this.#unsaved || (this.#record && this.#record.logBytes !== this.#readFrom)) await this.#save();
        report(sent);
        return sent;
      }
    }
  }

  #addPending(chunk: MetricChunk): void {
    const key = seriesKey(chunk.type, chunk.name);
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = new PendingPoints(chunk.type, chunk.name, this.#counts.get(key) ?? 0);
      this.#pending.set(key, pending);
    }
    if (chunk.offset > pending.end) {
      throw new LarderError(
        'BadRequest',
        `${this.directory}: ${chunk.type}/${chunk.name} is missing points from ${pending.end}`,
      );
    }
    this.#pendingPoints += pending.add(chunk);
  }

  async #sendBatch(runId: string): Promise<number> {
    const series: MetricSeriesBatch[] = [];
    let room = this.#batchPoints;
    for (const pending of this.#pending.values()) {
      if (room === 0) break;
      if (pending.length === 0) continue;
      const batch = pending.take(room);
      room -= batch.steps.length;
      series.push({ type: pending.type, name: pending.name, ...batch });
    }
    const answer = await onceMoreIfUnreachable(() => this.remote.appendMetrics({ run: runId, series }));
    let accepted = 0;
    for (const { type, name, count } of answer.series) {
      const key = seriesKey(type, name);
      const before = this.#counts.get(key) ?? 0;
      if (count <= before) continue;
      this.#counts.set(key, count);
      accepted += count - before;
      const pending = this.#pending.get(key);
      if (pending) this.#pendingPoints -= pending.acknowledge(count);
    }
    if (accepted === 0) {
      throw new LarderError('BadGateway', `The server acknowledged none of the points sent for run ${runId}`);
    }
    this.#unsaved = true;
    if (Date.now() - this.#savedAt >= SAVE_INTERVAL_MS) await this.#save();
    return accepted;
  }

  async #patchMetadata(
    record: UploadRecord,
    { document, hparams }: RunFiles,
    target: ResolvedTarget,
    visiting: Set<string>,
  ): Promise<void> {
    const associations = await this.#associations(document.associations, target, visiting, true);
    const patch = metadataPatch(document, hparams, associations);
    const json = JSON.stringify(patch);
    if (record.sentMetadata === json) return;
    await onceMoreIfUnreachable(() => this.remote.patchRun(record.id, patch));
    record.sentMetadata = json;
    await this.#save();
  }

  /**
   * Server refs for the run's associations. Local runs and artifacts are uploaded first to
   * the same folder (`uploadLocal`), or left out of the create and added by the patch after.
   */
  async #associations(
    associations: Associations<Association>,
    target: ResolvedTarget,
    visiting: Set<string>,
    uploadLocal: boolean,
  ): Promise<Associations> {
    const resolve = async (list: Association[]): Promise<ResourceRef[]> => {
      const refs: ResourceRef[] = [];
      for (const association of list) {
        if (!isLocalAssociation(association)) {
          refs.push(association);
          continue;
        }
        const known = await findUploadRecord(association.local, this.remote.server);
        if (known) {
          refs.push({ kind: association.kind, id: known.id });
        } else if (uploadLocal && !visiting.has(association.local)) {
          const uploaded =
            association.kind === 'artifact'
              ? await uploadArtifactDirectory(association.local, this.remote, target)
              : await new RunUploader(association.local, this.remote).sync(target, visiting);
          refs.push({ kind: association.kind, id: uploaded.id });
        }
      }
      return refs;
    };
    return { inputs: await resolve(associations.inputs), outputs: await resolve(associations.outputs) };
  }

  async #save(): Promise<void> {
    const record = this.#record;
    if (!record) return;
    record.series = [...this.#counts].map(([key, count]) => {
      const [type = '', name = ''] = key.split('\u0000');
      return { type, name, count };
    });
    // Only with nothing pending is every point before the read position on the server.
    if (this.#pendingPoints === 0) record.logBytes = this.#readFrom;
    record.uploadedAt = new Date().toISOString();
    await saveUploadRecord(this.directory, record);
    this.#savedAt = Date.now();
    this.#unsaved = false;
  }
}

/** The metadata a sync patches (and skips when unchanged since the last one). */
export function metadataPatch(
  document: RunDocument,
  hparams: RunFiles['hparams'],
  associations: Associations,
): RunPatchBody {
  return {
    status: document.status,
    endTime: document.endTime,
    hparams,
    labels: document.labels,
    description: document.description,
    associations,
  };
}

/**
 * Runs an idempotent call (points by offset, a metadata patch) a second time when the first
 * did not reach the server: a kept-alive connection the server closed just as it was reused
 * (ECONNRESET under load) fails a POST, which the HTTP client does not retry by itself.
 */
async function onceMoreIfUnreachable<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof LarderError && error.name === 'Unavailable')) throw error;
    return call();
  }
}

function definedOnly(target: UploadTarget): UploadTarget {
  return Object.fromEntries(Object.entries(target).filter(([, value]) => value !== undefined));
}
