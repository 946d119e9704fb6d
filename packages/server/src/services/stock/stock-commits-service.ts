/**
 * `/stock-commits` (find and get only): the history pushed to each repository, one record per
 * (repository, commit): `repo`, `commit`, `parents`, `message`, `author`, `time`, a `tree`
 * summary (entries per storage), `objects` and `bytes` (the whole commit), `pushedBy`.
 * Readable by whoever may read the repository: `find` needs `?repo=<id>`, and record ids are
 * `<repo id>:<commit id>`. Records are written by pushes only.
 */
import { LarderError, MATCH_ALL, not } from '@larder/protocol';
import type { AccessPolicy } from '../../auth/access-policy.js';
import type { DocumentStore } from '../../stores/document-store.js';
import { type DocumentParams, DocumentService } from '../documents/document-service.js';
import { STOCK_COMMITS } from './stock-names.js';
import { readableRepository } from './stock-repository-access.js';

/**
 * Commit records carry no owner of their own: every method first checks that the caller may
 * read the repository, so past that check any signed-in caller reads them.
 */
const throughRepositoryPolicy: AccessPolicy = {
  readFilter: (actor) => (actor.kind === 'anonymous' ? not(MATCH_ALL) : MATCH_ALL),
  writeFilter: () => not(MATCH_ALL),
  canCreate: () => false,
  stampOnCreate: () => {},
};

type Id = string | number | null;

export class StockCommitsService extends DocumentService {
  constructor(store: DocumentStore, authEnabled: boolean) {
    super({ store, collection: STOCK_COMMITS, policy: throughRepositoryPolicy, authEnabled });
  }

  override async find(params?: DocumentParams) {
    const repo = (params?.query as { repo?: unknown } | undefined)?.repo;
    if (typeof repo !== 'string') {
      throw new LarderError('BadRequest', 'Say which repository: /stock-commits?repo=<stock repository id>');
    }
    await readableRepository(this.store, this.actor(params), repo);
    return super.find(params);
  }

  override async get(id: Id, params?: DocumentParams) {
    const repo = String(id ?? '').split(':')[0] ?? '';
    await readableRepository(this.store, this.actor(params), repo);
    return super.get(id, params);
  }
}
