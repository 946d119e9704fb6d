/**
 * COCO onto a version (`POST /coco-imports { versionId, coco | sha256, status? }`): each
 * image is matched by file name to a picture (one already in the version first, else one of
 * the caller's), matched pictures join the version, categories become labels (existing
 * labels of the same name are reused), and annotations are created with the given review
 * status (default accepted). Large files go up as a blob first and are named by `sha256`.
 */
import { and, eq, LarderError, newId } from '@larder/protocol';
import { ownershipPolicy } from '../../auth/access-policy.js';
import type { Actor } from '../../auth/actor.js';
import { canReadBlob } from '../../auth/blob-access.js';
import { type BlobStore, isSha256 } from '../../blobs/blob-store.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import type { DocumentParams } from '../documents/document-service.js';
import type { LabelType } from './annotation-shapes.js';
import { AnnotationsService, type NewAnnotation, REVIEW_STATUSES } from './annotations-service.js';
import { cocoShape, labelTypeFor, type ParsedCoco, parseCoco } from './coco-parsing.js';
import { ASSETS, anyOf, inBatches, LABELS, WRITE_BATCH } from './datalake-collections.js';
import { bodyOf, signedInActor } from './datalake-params.js';
import { VersionAccess, type VersionRecord } from './version-access.js';
import { VersionMembership } from './version-membership.js';

const MAX_COCO_BYTES = 512 * 1024 * 1024;

export interface CocoImportReport {
  images: number;
  matched: number;
  /** File names of images no picture matched (the first 100). */
  unmatched: string[];
  labelsCreated: number;
  annotations: number;
}

export class CocoImportsService {
  private readonly versions: VersionAccess;
  private readonly membership: VersionMembership;
  private readonly annotations: AnnotationsService;

  constructor(
    private readonly store: DocumentStore,
    private readonly blobs: BlobStore,
    private readonly authEnabled: boolean,
  ) {
    this.versions = new VersionAccess(store);
    this.membership = new VersionMembership(store);
    this.annotations = new AnnotationsService(store, authEnabled);
  }

  async create(data: unknown, params?: DocumentParams): Promise<CocoImportReport> {
    const actor = signedInActor(params, this.authEnabled);
    const body = bodyOf(data, '{ versionId, coco } or { versionId, sha256 }');
    const version = await this.versions.changeable(actor, body.versionId);
    const status = body.status ?? 'accepted';
    if (!(REVIEW_STATUSES as readonly unknown[]).includes(status)) {
      throw new LarderError('BadRequest', `"status" is one of ${REVIEW_STATUSES.join(', ')}`);
    }
    const coco = parseCoco(body.coco !== undefined ? body.coco : await this.readUploaded(actor, body.sha256));

    const byName = await this.matchPictures(actor, version, coco);
    const assetOfImage = new Map<number, StoredDocument>();
    const unmatched: string[] = [];
    for (const image of coco.images) {
      const asset = byName.get(baseName(image.file_name));
      if (asset) assetOfImage.set(image.id, asset);
      else if (unmatched.length < 100) unmatched.push(image.file_name);
    }
    await this.membership.add(actor, version._id, [...new Set([...assetOfImage.values()].map((asset) => asset._id))]);

    const { labelOf, created } = await this.labelsFor(version, coco);
    const annotations: NewAnnotation[] = [];
    for (const annotation of coco.annotations) {
      const asset = assetOfImage.get(annotation.image_id);
      const label = labelOf.get(annotation.category_id);
      if (!asset || !label) continue;
      for (const shape of cocoShape(annotation, label.type)) {
        annotations.push({ assetId: asset._id, labelId: label.id, shape, status: status as NewAnnotation['status'] });
      }
    }
    await this.annotations.insert(actor, version, annotations);
    return {
      images: coco.images.length,
      matched: assetOfImage.size,
      unmatched,
      labelsCreated: created,
      annotations: annotations.length,
    };
  }

  private async readUploaded(actor: Actor, sha256: unknown): Promise<unknown> {
    if (!isSha256(sha256))
      throw new LarderError('BadRequest', 'Give the COCO JSON as "coco", or upload it and give its "sha256"');
    const info = (await canReadBlob(this.store, actor, sha256)) ? await this.blobs.stat(sha256) : undefined;
    if (!info) throw new LarderError('NotFound', `No blob ${sha256} that you uploaded`);
    if (info.size > MAX_COCO_BYTES)
      throw new LarderError('PayloadTooLarge', `COCO files are limited to ${MAX_COCO_BYTES} bytes`);
    const parts: Buffer[] = [];
    for await (const chunk of await this.blobs.get(sha256)) parts.push(chunk as Buffer);
    try {
      return JSON.parse(Buffer.concat(parts).toString('utf8'));
    } catch (cause) {
      throw new LarderError('BadRequest', `The uploaded COCO file is not valid JSON: ${(cause as Error).message}`);
    }
  }

  /** File name → picture: pictures of the version win over the caller's other pictures. */
  private async matchPictures(
    actor: Actor,
    version: VersionRecord,
    coco: ParsedCoco,
  ): Promise<Map<string, StoredDocument>> {
    const names = [...new Set(coco.images.map((image) => baseName(image.file_name)))];
    const found = new Map<string, StoredDocument>();
    const inVersion = new Set(await this.membership.assetIds(version._id));
    await inBatches(names, WRITE_BATCH, async (batch) => {
      const candidates = await this.store.find(ASSETS, {
        filter: and(
          anyOf('filenames', batch),
          { op: 'exists', path: ['sha256'], value: true },
          ownershipPolicy.readFilter(actor),
        ),
        sort: [{ path: ['createdAt'], direction: 1 }],
      });
      const mine = actor.kind === 'user' ? actor.user._id : undefined;
      const rank = (asset: StoredDocument) =>
        inVersion.has(asset._id) ? 0 : mine === undefined || asset.userId === mine ? 1 : 2;
      const wanted = new Set(batch);
      for (const asset of candidates) {
        const names = Array.isArray(asset.filenames) ? asset.filenames.map(String) : [String(asset.filename)];
        for (const name of names.filter((each) => wanted.has(each))) {
          const current = found.get(name);
          if (!current || rank(asset) < rank(current)) found.set(name, asset);
        }
      }
    });
    return found;
  }

  private async labelsFor(version: VersionRecord, coco: ParsedCoco) {
    const existing = await this.store.find(LABELS, { filter: eq(['versionId'], version._id) });
    const byName = new Map(
      existing.map((label) => [String(label.name), { id: label._id, type: label.type as LabelType }]),
    );
    const labelOf = new Map<number, { id: string; type: LabelType }>();
    const now = new Date().toISOString();
    const fresh: StoredDocument[] = [];
    for (const category of coco.categories) {
      let label = byName.get(category.name);
      if (!label) {
        label = { id: newId(), type: labelTypeFor(category, coco.annotations) };
        byName.set(category.name, label);
        fresh.push({
          _id: label.id,
          versionId: version._id,
          datasetId: version.datasetId,
          name: category.name,
          type: label.type,
          public: version.public === true,
          ...(typeof version.userId === 'string' ? { userId: version.userId } : {}),
          createdAt: now,
          updatedAt: now,
        } as StoredDocument);
      }
      labelOf.set(category.id, label);
    }
    if (fresh.length > 0) {
      await this.store.ensureCollection(LABELS);
      await this.store.insert(LABELS, fresh);
    }
    return { labelOf, created: fresh.length };
  }
}

function baseName(fileName: string): string {
  return fileName.split(/[\\/]/).pop() ?? fileName;
}
