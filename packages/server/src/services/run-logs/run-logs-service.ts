/**
 * `/run-logs`: a run's console output (stdout and stderr with timestamps, and how the
 * process ended), in the chunks the SDK captured it in. Access follows the run, as for
 * metrics: whoever may read the run reads its output, writers append to it; anyone else
 * gets the 404 of a run that does not exist. Chunks are kept exactly once by number (a
 * resend after a broken connection stores nothing twice), and each new chunk goes out as a
 * `chunk` event carrying the run's access fields, so only its readers' sockets receive it.
 *
 * - `create({ run, seq, records, end? })` appends a chunk (see `run-log-chunk.ts`).
 * - `find({ query: { run, after?, limit? } })` answers `{ run, chunks, end, next }`: chunks
 *   in order from the one after `after`, at most `limit` (default 50, at most 200; a chunk holds up to about 256 KiB of text);
 *   `next` is the `after` of the next page, or null.
 */
import { EventEmitter } from 'node:events';
import { and, eq, type Filter, LarderError } from '@larder/protocol';
import { type Actor, actorOf } from '../../auth/actor.js';
import { folderPolicy } from '../../auth/folder-policy.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import type { DocumentParams } from '../documents/document-service.js';
import { readableRun, writableRun } from '../runs/run-through.js';
import { type LogEnd, parseLogChunk } from './run-log-chunk.js';
import { RUN_LOGS_COLLECTION, runLogChunkId } from './run-logs-collection.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;
const ACCESS_FIELDS = ['userId', 'public', 'access'] as const;
const HAS_END: Filter = { op: 'exists', path: ['end'], value: true };

export class RunLogsService extends EventEmitter {
  readonly policy = folderPolicy;
  readonly events = ['chunk'];

  constructor(
    private readonly store: DocumentStore,
    private readonly authEnabled: boolean,
  ) {
    super();
  }

  async create(data: unknown, params?: DocumentParams) {
    const actor = this.actor(params);
    const chunk = parseLogChunk(data);
    const run = await writableRun(
      this.store,
      this.policy,
      actor,
      chunk.run,
      `You may read but not write the console output of run ${chunk.run}`,
    );
    const document: StoredDocument = {
      _id: runLogChunkId(run._id, chunk.seq),
      run: run._id,
      seq: chunk.seq,
      records: chunk.records as unknown as StoredDocument[string],
      ...(chunk.end ? { end: chunk.end as unknown as StoredDocument[string] } : {}),
      receivedAt: new Date().toISOString(),
    };
    await this.store.ensureCollection(RUN_LOGS_COLLECTION);
    try {
      await this.store.insert(RUN_LOGS_COLLECTION, [document]);
    } catch (error) {
      if (error instanceof LarderError && error.name === 'Conflict')
        return { run: run._id, seq: chunk.seq, stored: false };
      throw error;
    }
    const access = Object.fromEntries(
      ACCESS_FIELDS.filter((field) => run[field] !== undefined).map((field) => [field, run[field]]),
    );
    this.emit('chunk', { run: run._id, ...access, seq: chunk.seq, records: chunk.records, end: chunk.end ?? null });
    return { run: run._id, seq: chunk.seq, stored: true };
  }

  async find(params?: DocumentParams) {
    const actor = this.actor(params);
    const query = (params?.query ?? {}) as Record<string, unknown>;
    if (typeof query.run !== 'string') throw new LarderError('BadRequest', 'Ask for console output with ?run=<run id>');
    const run = await readableRun(this.store, this.policy, actor, query.run);
    const after = wholeNumber(query.after, -1, 'after', -1);
    const limit = wholeNumber(query.limit, DEFAULT_LIMIT, 'limit', 1, MAX_LIMIT);
    const filter = and(eq(['run'], run._id), { op: 'gt', path: ['seq'], value: after });
    const found = await this.store.find(RUN_LOGS_COLLECTION, {
      filter,
      sort: [{ path: ['seq'], direction: 1 }],
      limit: limit + 1,
    });
    const page = found.slice(0, limit);
    const [ended] = await this.store.find(RUN_LOGS_COLLECTION, {
      filter: and(eq(['run'], run._id), HAS_END),
      limit: 1,
    });
    return {
      run: run._id,
      chunks: page.map((chunk) => ({
        seq: chunk.seq,
        records: chunk.records,
        ...(chunk.end ? { end: chunk.end } : {}),
      })),
      end: (ended?.end as unknown as LogEnd | undefined) ?? null,
      next: found.length > limit ? (page.at(-1)?.seq ?? null) : null,
    };
  }

  private actor(params: DocumentParams | undefined): Actor {
    const actor = actorOf(params ?? {}, this.authEnabled);
    if (actor.kind === 'anonymous')
      throw new LarderError('NotAuthenticated', 'Sign in to read or write console output');
    return actor;
  }
}

function wholeNumber(
  value: unknown,
  fallback: number,
  name: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new LarderError('BadRequest', `${name} must be a whole number from ${min} to ${max}`);
  }
  return number;
}
