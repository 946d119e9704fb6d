/**
 * `POST /asset-tags`: adds and removes tags on many assets at once.
 *
 * @example
 * POST /asset-tags { "ids": ["p1…", "p2…"], "add": ["reviewed"], "remove": ["todo"] }
 * POST /asset-tags { "query": { "tags": "drone" }, "add": ["aerial"] }   → { "modified": 2 }
 */
import { and, type Filter, LarderError, parseQuery } from '@larder/protocol';
import { notAuthenticated, ownershipPolicy } from '../../auth/access-policy.js';
import { actorOf } from '../../auth/actor.js';
import type { DocumentStore } from '../../stores/document-store.js';
import type { DocumentParams } from '../documents/document-service.js';
import { ASSETS, anyOf } from './datalake-collections.js';
import { parseTags } from './datalake-names.js';
import { rewriteAllOperators } from './query-all-operator.js';

const MAX_IDS = 10_000;

export class AssetTagsService {
  constructor(
    private readonly store: DocumentStore,
    private readonly authEnabled: boolean,
  ) {}

  async create(data: unknown, params?: DocumentParams): Promise<{ modified: number }> {
    const actor = actorOf(params ?? {}, this.authEnabled);
    if (actor.kind === 'anonymous') throw notAuthenticated();
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw new LarderError('BadRequest', 'Send { ids or query, add, remove }');
    }
    const body = data as Record<string, unknown>;
    const add = parseTags(body.add, '"add"');
    const remove = new Set(parseTags(body.remove, '"remove"'));
    if (add.length === 0 && remove.size === 0) {
      throw new LarderError('BadRequest', 'Give tags to "add" or "remove"');
    }
    const modified = await this.store.modify(
      ASSETS,
      and(this.target(body), ownershipPolicy.writeFilter(actor)),
      (asset) => {
        const current = Array.isArray(asset.tags) ? asset.tags.filter((tag) => typeof tag === 'string') : [];
        const tags = [...new Set([...current, ...add])].filter((tag) => !remove.has(tag));
        return { ...asset, tags, updatedAt: new Date().toISOString() };
      },
    );
    return { modified: modified.length };
  }

  private target(body: Record<string, unknown>): Filter {
    if (body.ids !== undefined) {
      const { ids } = body;
      if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) {
        throw new LarderError('BadRequest', '"ids" must be a list of asset ids');
      }
      if (ids.length > MAX_IDS) throw new LarderError('PayloadTooLarge', `At most ${MAX_IDS} ids per call`);
      return anyOf('_id', ids as string[]);
    }
    if (body.query !== undefined) return parseQuery(rewriteAllOperators(body.query)).filter;
    throw new LarderError('BadRequest', 'Say which assets: give "ids" or "query"');
  }
}
