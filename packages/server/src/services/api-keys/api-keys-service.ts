/**
 * Long-lived API keys (`/api-keys`) for the SDK and CLI. A key is shown once, at creation;
 * the server keeps only its SHA-256 (which is also the record id, so a lookup is one read).
 * Keys are sent as `Authorization: Bearer lk_…`, like a JWT.
 */
import { createHash, randomBytes } from 'node:crypto';
import { eq, LarderError } from '@larder/protocol';
import { ownershipPolicy } from '../../auth/access-policy.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { type DocumentParams, DocumentService } from '../documents/document-service.js';

export const API_KEYS_COLLECTION = '_api_keys';
export const API_KEY_PREFIX = 'lk_';

export function hashApiKey(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function isApiKey(token: unknown): token is string {
  return typeof token === 'string' && token.startsWith(API_KEY_PREFIX);
}

export class ApiKeysService extends DocumentService {
  constructor(store: DocumentStore, options: { authEnabled: boolean }) {
    super({ store, collection: API_KEYS_COLLECTION, policy: ownershipPolicy, authEnabled: options.authEnabled });
  }

  /** Creates a key `{ name }`; the answer carries `token`, which is never shown again. */
  override async create(data: unknown, params?: DocumentParams): Promise<StoredDocument> {
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw new LarderError('BadRequest', 'Give the key a name: { "name": "laptop" }');
    }
    const name = (data as { name?: unknown }).name ?? 'api key';
    if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
      throw new LarderError('BadRequest', 'An API key name is a string of 1-200 characters');
    }
    const token = API_KEY_PREFIX + randomBytes(32).toString('base64url');
    const record: Record<string, unknown> = { _id: hashApiKey(token), name, prefix: token.slice(0, 10) };
    const userId = (data as { userId?: unknown }).userId;
    if (typeof userId === 'string') record.userId = userId;
    const created = (await super.create(record, params)) as StoredDocument;
    return { ...created, token };
  }

  /** The key record for a presented token, if it exists (internal; no permission check). */
  async lookup(token: string): Promise<StoredDocument | undefined> {
    const [key] = await this.store.find(this.collection, { filter: eq(['_id'], hashApiKey(token)), limit: 1 });
    return key;
  }
}
