/**
 * `/webhooks`: where Larder tells other systems what happened. A webhook is owned like any
 * document (its owner hears only of records they may read) and holds a `url` (http or
 * https), the `events` it wants (`["*"]` for all), `active`, a `description`, and a signing
 * `secret`: chosen by the server unless given, answered once by the create, then never
 * again (a hidden field, like password hashes).
 */
import { randomBytes } from 'node:crypto';
import { LarderError } from '@larder/protocol';
import { ownershipPolicy } from '../../auth/access-policy.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { type DocumentParams, DocumentService } from '../documents/document-service.js';
import { assertRecordData, type RecordData } from '../documents/record-data.js';
import { parseEvents } from './webhook-events.js';

export const WEBHOOKS_COLLECTION = 'webhooks';
const MAX_URL = 2048;

type Id = string | number | null;

function assertUrl(value: unknown): void {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' && value.length <= MAX_URL ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new LarderError('BadRequest', '"url" must be an http:// or https:// address');
  }
}

function assertSecret(value: unknown): void {
  if (typeof value !== 'string' || value.length < 16 || value.length > 256) {
    throw new LarderError('BadRequest', '"secret" must be a string of 16 to 256 characters');
  }
}

export class WebhooksService extends DocumentService {
  constructor(store: DocumentStore, authEnabled: boolean) {
    super({ store, collection: WEBHOOKS_COLLECTION, policy: ownershipPolicy, authEnabled, hiddenFields: ['secret'] });
  }

  override async create(data: unknown, params?: DocumentParams): Promise<StoredDocument> {
    if (Array.isArray(data)) throw new LarderError('BadRequest', 'Create one webhook at a time');
    assertRecordData(data);
    const fields = this.checked(data, true);
    const secret = typeof fields.secret === 'string' ? fields.secret : `whsec_${randomBytes(24).toString('base64url')}`;
    const created = (await super.create(
      { active: true, description: '', ...fields, secret },
      params,
    )) as StoredDocument;
    // The only answer that carries the secret: the receiver needs it to check signatures.
    return { ...created, secret };
  }

  override async update(id: Id, data: unknown, params?: DocumentParams): Promise<StoredDocument> {
    assertRecordData(data);
    return super.update(id, this.checked(data, true), params);
  }

  override async patch(id: Id, data: unknown, params?: DocumentParams) {
    assertRecordData(data, 'The patch');
    return super.patch(id, this.checked(data, false), params);
  }

  /** A replacement without a secret keeps the one the webhook has. */
  protected override prepareForWrite(record: StoredDocument, before: StoredDocument | undefined): StoredDocument {
    if (record.secret !== undefined || before?.secret === undefined) return record;
    return { ...record, secret: before.secret };
  }

  private checked(data: RecordData, whole: boolean): RecordData {
    const fields = { ...data };
    if (whole || fields.url !== undefined) assertUrl(fields.url);
    if (whole || fields.events !== undefined) fields.events = parseEvents(fields.events);
    if (fields.secret !== undefined) assertSecret(fields.secret);
    if (fields.active !== undefined && typeof fields.active !== 'boolean') {
      throw new LarderError('BadRequest', '"active" is true or false');
    }
    if (
      fields.description !== undefined &&
      (typeof fields.description !== 'string' || fields.description.length > 1000)
    ) {
      throw new LarderError('BadRequest', '"description" is a string of at most 1000 characters');
    }
    return fields;
  }
}
