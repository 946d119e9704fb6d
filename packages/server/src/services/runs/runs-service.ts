/**
 * `/runs`: experiment runs (t9k Runs, Marcelle runs, Picsellia experiments), each in a
 * folder, named uniquely within it. A create applies the conflict strategy (`skip`,
 * `error`, `new` — the default, under the alternative name — or `replace`) and is
 * idempotent by alternative name, so uploading a local run twice makes one run. Records
 * carry their folder's access lists and, kept by the metrics service, a summary of every
 * metric (`metrics.<type>.<name>.{last,min,max,count,step}`) that queries can filter and
 * sort on.
 */
import { LarderError } from '@larder/protocol';
import type { BlobStore } from '../../blobs/blob-store.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import type { MetricStore } from '../../stores/metric-store.js';
import type { RecordData } from '../documents/record-data.js';
import type { FolderTree } from '../folders/folder-tree.js';
import { FolderedService } from '../folders/foldered-service.js';
import { associationIndexes } from '../lineage/associations.js';
import { removeRunLogs } from '../run-logs/run-logs-collection.js';
import { assertRunAttachments } from './data-logs.js';
import { assertStatus } from './run-fields.js';

export const RUNS_COLLECTION = 'runs';

export class RunsService extends FolderedService {
  constructor(
    store: DocumentStore,
    blobs: BlobStore,
    authEnabled: boolean,
    folders: FolderTree,
    private readonly metricStore: MetricStore,
  ) {
    super({ store, blobs, authEnabled, folders, collection: RUNS_COLLECTION, noun: 'run' });
  }

  protected override validate(fields: RecordData, whole: boolean): void {
    super.validate(fields, whole);
    assertStatus(fields.status);
    assertRunAttachments(fields);
    if (fields.associations !== undefined) associationIndexes(fields.associations);
    if (
      fields.hparams !== undefined &&
      (fields.hparams === null || typeof fields.hparams !== 'object' || Array.isArray(fields.hparams))
    ) {
      throw new LarderError('BadRequest', '"hparams" must be an object');
    }
  }

  protected override defaults(record: RecordData): RecordData {
    return {
      status: 'Running',
      startTime: new Date().toISOString(),
      labels: [],
      description: '',
      hparams: {},
      ...record,
    };
  }

  protected override async afterRemove(record: StoredDocument): Promise<void> {
    await this.metricStore.removeRun(record._id);
    await removeRunLogs(this.store, record._id);
  }

  /** The flat lineage indexes always follow `associations`. */
  protected override prepareForWrite(record: StoredDocument, before: StoredDocument | undefined): StoredDocument {
    const kept = super.prepareForWrite(record, before);
    const { inputIds, outputIds } = associationIndexes(kept.associations);
    return { ...kept, inputIds, outputIds };
  }
}
