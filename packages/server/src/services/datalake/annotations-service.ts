/**
 * The `annotations` service: what is drawn on each picture of a version. An annotation has
 * a label of the version, a shape of that label's type, and a review status (pending,
 * accepted, rejected). Reads need read access to the version; writes need write access and
 * an unpublished version.
 *
 * @example
 * POST /annotations { "versionId": "…", "assetId": "p…", "labelId": "…",
 *                     "shape": { "type": "rectangle", "x": 4, "y": 8, "width": 20, "height": 10 } }
 * PATCH /annotations?versionId=<id>&assetId=p… { "status": "accepted" }   (review many)
 * GET /annotations?versionId=<id>&status=accepted&$limit=1000
 */
import { and, eq, LarderError, newId, parseQuery } from '@larder/protocol';
import type { Actor } from '../../auth/actor.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import type { DocumentParams } from '../documents/document-service.js';
import { parseShape, type Shape } from './annotation-shapes.js';
import { ANNOTATIONS, inBatches, LABELS, versionOfRow, versionRows, WRITE_BATCH } from './datalake-collections.js';
import { bodyOf, queryOf, signedInActor } from './datalake-params.js';
import { VersionAccess, type VersionRecord } from './version-access.js';
import { VersionMembership } from './version-membership.js';

export const REVIEW_STATUSES = ['pending', 'accepted', 'rejected'] as const;
const MAX_PAGE = 10_000;
const MAX_CREATE = 10_000;

type Id = string | number | null;

function assertStatus(value: unknown): asserts value is (typeof REVIEW_STATUSES)[number] {
  if (!(REVIEW_STATUSES as readonly unknown[]).includes(value)) {
    throw new LarderError('BadRequest', `"status" is one of ${REVIEW_STATUSES.join(', ')}`);
  }
}

export interface NewAnnotation {
  assetId: string;
  labelId: string;
  shape: Shape;
  status: (typeof REVIEW_STATUSES)[number];
}

export class AnnotationsService {
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
    const { versionId, ...rest } = queryOf(params);
    const version = await this.versions.readable(actor, versionId);
    const query = parseQuery(rest, { loose: params?.provider === 'rest' });
    const limit = Math.min(query.limit ?? 1000, MAX_PAGE);
    const page = await this.store.findPage(ANNOTATIONS, {
      filter: and(versionRows(version._id), query.filter),
      sort: query.sort,
      skip: query.skip,
      limit,
    });
    return { total: page.total, limit, skip: query.skip, data: page.documents };
  }

  async get(id: Id, params?: DocumentParams): Promise<StoredDocument> {
    const actor = signedInActor(params, this.authEnabled);
    const rowId = String(id);
    await this.versions.readable(actor, versionOfRow(rowId));
    const [row] = await this.store.find(ANNOTATIONS, { filter: eq(['_id'], rowId), limit: 1 });
    if (!row) throw new LarderError('NotFound', `No annotation '${rowId}'`);
    return row;
  }

  async create(data: unknown, params?: DocumentParams): Promise<StoredDocument | StoredDocument[]> {
    const actor = signedInActor(params, this.authEnabled);
    const items = Array.isArray(data) ? data : [data];
    if (items.length === 0) return [];
    if (items.length > MAX_CREATE)
      throw new LarderError('PayloadTooLarge', `At most ${MAX_CREATE} annotations per call`);
    const versionIds = new Set(items.map((item) => (item as { versionId?: unknown } | null)?.versionId));
    if (versionIds.size !== 1)
      throw new LarderError('BadRequest', 'Annotations created together belong to one version');
    const version = await this.versions.changeable(actor, [...versionIds][0]);
    const annotations = items.map((item, index) => {
      const body = bodyOf(item, '{ versionId, assetId, labelId, shape, status? }');
      const status = body.status ?? 'pending';
      assertStatus(status);
      if (typeof body.assetId !== 'string' || typeof body.labelId !== 'string') {
        throw new LarderError('BadRequest', `Annotation ${index} needs an "assetId" and a "labelId"`);
      }
      return { assetId: body.assetId, labelId: body.labelId, shape: parseShape(body.shape), status };
    });
    const created = await this.insert(actor, version, annotations);
    return Array.isArray(data) ? created : (created[0] as StoredDocument);
  }

  /**
   * Stores annotations of one version after checking that each picture is in the version and
   * each shape fits its label's type. Used by the service and by COCO import.
   */
  async insert(actor: Actor, version: VersionRecord, annotations: readonly NewAnnotation[]): Promise<StoredDocument[]> {
    const labels = new Map(
      (await this.store.find(LABELS, { filter: eq(['versionId'], version._id) })).map((label) => [label._id, label]),
    );
    const members = await this.membership.present(
      version._id,
      annotations.map((each) => each.assetId),
    );
    const now = new Date().toISOString();
    const createdBy = actor.kind === 'user' ? actor.user._id : 'local';
    const rows: StoredDocument[] = annotations.map((annotation, index) => {
      const label = labels.get(annotation.labelId);
      if (!label)
        throw new LarderError(
          'BadRequest',
          `Annotation ${index}: label '${annotation.labelId}' is not in this version`,
        );
      if (label.type !== annotation.shape.type) {
        throw new LarderError(
          'BadRequest',
          `Annotation ${index}: label '${label.name}' is drawn as a ${label.type}, not a ${annotation.shape.type}`,
        );
      }
      if (!members.has(annotation.assetId)) {
        throw new LarderError(
          'BadRequest',
          `Annotation ${index}: asset ${annotation.assetId} is not in this version; add it first`,
        );
      }
      return {
        _id: `${version._id}:${newId()}`,
        versionId: version._id,
        assetId: annotation.assetId,
        labelId: annotation.labelId,
        label: label.name,
        shape: annotation.shape,
        status: annotation.status,
        createdBy,
        createdAt: now,
        updatedAt: now,
      } as StoredDocument;
    });
    await this.store.ensureCollection(ANNOTATIONS);
    await inBatches(rows, WRITE_BATCH, (batch) => this.store.insert(ANNOTATIONS, batch));
    return rows;
  }

  async patch(id: Id, data: unknown, params?: DocumentParams): Promise<StoredDocument | StoredDocument[]> {
    const actor = signedInActor(params, this.authEnabled);
    const body = bodyOf(data, '{ status?, shape?, labelId? }');
    const unknown = Object.keys(body).filter((key) => !['status', 'shape', 'labelId'].includes(key));
    if (unknown.length > 0)
      throw new LarderError('BadRequest', `Only status, shape and labelId can change (not ${unknown.join(', ')})`);
    if (body.status !== undefined) assertStatus(body.status);
    if (id === null) {
      const { versionId, ...rest } = queryOf(params);
      if (body.shape !== undefined || body.labelId !== undefined) {
        throw new LarderError('BadRequest', 'Many annotations at once can only change "status"');
      }
      const version = await this.versions.changeable(actor, versionId);
      const filter = and(versionRows(version._id), parseQuery(rest, { loose: params?.provider === 'rest' }).filter);
      const now = new Date().toISOString();
      const changed = await this.store.modify(ANNOTATIONS, filter, (row) => ({
        ...row,
        status: body.status as string,
        updatedAt: now,
      }));
      return changed.map((each) => each.after);
    }
    const rowId = String(id);
    const version = await this.versions.changeable(actor, versionOfRow(rowId));
    const before = await this.get(rowId, params);
    const labelId = typeof body.labelId === 'string' ? body.labelId : String(before.labelId);
    const shape = body.shape === undefined ? (before.shape as Shape) : parseShape(body.shape);
    const [label] = await this.store.find(LABELS, {
      filter: and(eq(['_id'], labelId), eq(['versionId'], version._id)),
      limit: 1,
    });
    if (!label) throw new LarderError('BadRequest', `Label '${labelId}' is not in this version`);
    if (label.type !== shape.type)
      throw new LarderError('BadRequest', `Label '${label.name}' is drawn as a ${label.type}, not a ${shape.type}`);
    const now = new Date().toISOString();
    const [changed] = await this.store.modify(ANNOTATIONS, eq(['_id'], rowId), (row) => ({
      ...row,
      labelId,
      label: String(label.name),
      shape,
      ...(body.status !== undefined ? { status: body.status as string } : {}),
      updatedAt: now,
    }));
    if (!changed) throw new LarderError('NotFound', `No annotation '${rowId}'`);
    return changed.after;
  }

  async remove(id: Id, params?: DocumentParams): Promise<StoredDocument | StoredDocument[]> {
    const actor = signedInActor(params, this.authEnabled);
    if (id === null) {
      const { versionId, ...rest } = queryOf(params);
      const version = await this.versions.changeable(actor, versionId);
      const filter = and(versionRows(version._id), parseQuery(rest, { loose: params?.provider === 'rest' }).filter);
      return this.store.remove(ANNOTATIONS, filter);
    }
    const rowId = String(id);
    await this.versions.changeable(actor, versionOfRow(rowId));
    const [removed] = await this.store.remove(ANNOTATIONS, eq(['_id'], rowId));
    if (!removed) throw new LarderError('NotFound', `No annotation '${rowId}'`);
    return removed;
  }
}
