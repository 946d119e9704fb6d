/**
 * The `dataset-members` service: which assets a version holds.
 *
 * @example
 * GET  /dataset-members?versionId=<id>&$limit=1000&$skip=0   → { total, limit, skip, data: [{ assetId }] }
 * GET  /dataset-members?versionId=<id>&expand=asset           → rows with their `asset` record
 * POST /dataset-members { "versionId": "…", "assetIds": ["p…", …] }   → { added, assetCount }
 * DELETE /dataset-members?versionId=<id>&assetId[$in][]=p…           → { removed, assetCount }
 */
import { and, LarderError, parseQuery } from '@larder/protocol';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import type { DocumentParams } from '../documents/document-service.js';
import { ASSETS, anyOf, MEMBERS, versionOfRow, versionRows } from './datalake-collections.js';
import { bodyOf, queryOf, signedInActor } from './datalake-params.js';
import { VersionAccess } from './version-access.js';
import { VersionMembership } from './version-membership.js';

const MAX_PAGE = 10_000;
const MAX_IDS_PER_CALL = 100_000;

export class DatasetMembersService {
  private readonly versions: VersionAccess;
  private readonly membership: VersionMembership;

  constructor(
    private readonly store: DocumentStore,
    private readonly authEnabled: boolean,
  ) {
    this.versions = new VersionAccess(store);
    this.membership = new VersionMembership(store);
  }

  async find(params?: DocumentParams) {
    const actor = signedInActor(params, this.authEnabled);
    const { versionId, expand, ...rest } = queryOf(params);
    const version = await this.versions.readable(actor, versionId);
    const query = parseQuery(rest, { loose: params?.provider === 'rest' });
    const limit = Math.min(query.limit ?? 1000, MAX_PAGE);
    const page = await this.store.findPage(MEMBERS, {
      filter: and(versionRows(version._id), query.filter),
      sort: query.sort,
      skip: query.skip,
      limit,
    });
    if (expand !== undefined && expand !== 'asset') throw new LarderError('BadRequest', '"expand" can only be "asset"');
    const data = expand === 'asset' ? await this.withAssets(page.documents) : page.documents;
    return { total: page.total, limit, skip: query.skip, data };
  }

  /** Each row with its asset: reading a version lets one read the pictures it holds. */
  private async withAssets(rows: StoredDocument[]): Promise<StoredDocument[]> {
    const assets = await this.store.find(ASSETS, {
      filter: anyOf(
        '_id',
        rows.map((row) => String(row.assetId)),
      ),
    });
    const byId = new Map(assets.map((asset) => [asset._id, asset]));
    return rows.map((row) => ({ ...row, asset: byId.get(String(row.assetId)) ?? null }));
  }

  async create(data: unknown, params?: DocumentParams) {
    const actor = signedInActor(params, this.authEnabled);
    const body = bodyOf(data, '{ versionId, assetIds }');
    const version = await this.versions.changeable(actor, body.versionId);
    const ids = assetIdList(body.assetIds);
    const added = await this.membership.add(actor, version._id, ids);
    return { added, assetCount: (await this.versions.readable(actor, version._id)).assetCount };
  }

  async remove(id: string | null, params?: DocumentParams) {
    const actor = signedInActor(params, this.authEnabled);
    if (id !== null) {
      const version = await this.versions.changeable(actor, versionOfRow(String(id)));
      const assetId = String(id).slice(version._id.length + 1);
      const removed = await this.membership.remove(version._id, [assetId]);
      if (removed === 0) throw new LarderError('NotFound', `Asset ${assetId} is not in this version`);
      return { removed, assetCount: (await this.versions.readable(actor, version._id)).assetCount };
    }
    const { versionId, assetId } = queryOf(params);
    const version = await this.versions.changeable(actor, versionId);
    const ids = assetId === undefined ? 'all' : assetIdList(inValues(assetId));
    const removed = await this.membership.remove(version._id, ids);
    return { removed, assetCount: (await this.versions.readable(actor, version._id)).assetCount };
  }
}

function inValues(condition: unknown): unknown {
  if (condition !== null && typeof condition === 'object' && !Array.isArray(condition) && '$in' in condition) {
    return (condition as { $in: unknown }).$in;
  }
  return typeof condition === 'string' ? [condition] : condition;
}

function assetIdList(value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((id) => typeof id === 'string' && id.length > 0 && id.length <= 128)) {
    throw new LarderError('BadRequest', '"assetIds" must be a list of asset ids');
  }
  if (value.length > MAX_IDS_PER_CALL) {
    throw new LarderError('PayloadTooLarge', `At most ${MAX_IDS_PER_CALL} asset ids per call; send them in parts`);
  }
  return value as string[];
}
