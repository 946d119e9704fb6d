/**
 * A version's annotations as COCO (`GET /coco-exports/<versionId>?status=accepted`):
 * every picture of the version in `images`, its labels in `categories`, and its
 * annotations (all, or only accepted ones) with `bbox`, `segmentation`, `area` and
 * `iscrowd`.
 */
import { and, eq, LarderError } from '@larder/protocol';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import type { DocumentParams } from '../documents/document-service.js';
import { boundingBox, type Shape, shapeArea } from './annotation-shapes.js';
import type { CocoAnnotation, CocoDocument, CocoImage } from './coco-format.js';
import { ANNOTATIONS, ASSETS, anyOf, inBatches, LABELS, versionRows, WRITE_BATCH } from './datalake-collections.js';
import { queryOf, signedInActor } from './datalake-params.js';
import { VersionAccess } from './version-access.js';
import { VersionMembership } from './version-membership.js';

export class CocoExportsService {
  private readonly versions: VersionAccess;
  private readonly membership: VersionMembership;

  constructor(
    private readonly store: DocumentStore,
    private readonly authEnabled: boolean,
  ) {
    this.versions = new VersionAccess(store);
    this.membership = new VersionMembership(store);
  }

  async get(id: string | number | null, params?: DocumentParams): Promise<CocoDocument> {
    const actor = signedInActor(params, this.authEnabled);
    const version = await this.versions.readable(actor, String(id));
    const { status = 'all' } = queryOf(params);
    if (status !== 'all' && status !== 'accepted') {
      throw new LarderError('BadRequest', '"status" is "all" or "accepted"');
    }
    const assetIds = await this.membership.assetIds(version._id);
    const images: CocoImage[] = [];
    const imageIds = new Map<string, CocoImage>();
    await inBatches(assetIds, WRITE_BATCH, async (batch) => {
      const assets = await this.store.find(ASSETS, {
        filter: anyOf('_id', batch),
        sort: [{ path: ['_id'], direction: 1 }],
      });
      for (const asset of assets) {
        const image: CocoImage = {
          id: images.length + 1,
          file_name: String(asset.filename ?? asset._id),
          width: Number(asset.width ?? 0),
          height: Number(asset.height ?? 0),
          larder_asset_id: asset._id,
        };
        images.push(image);
        imageIds.set(asset._id, image);
      }
    });
    const labels = await this.store.find(LABELS, {
      filter: eq(['versionId'], version._id),
      sort: [{ path: ['createdAt'], direction: 1 }],
    });
    const categoryIds = new Map(labels.map((label, index) => [label._id, index + 1]));
    const filter =
      status === 'accepted' ? and(versionRows(version._id), eq(['status'], 'accepted')) : versionRows(version._id);
    const rows = await this.store.find(ANNOTATIONS, { filter });
    const annotations: CocoAnnotation[] = [];
    for (const row of rows) {
      const image = imageIds.get(String(row.assetId));
      const category = categoryIds.get(String(row.labelId));
      if (!image || category === undefined) continue;
      annotations.push(toCoco(row, annotations.length + 1, image, category));
    }
    return {
      info: {
        description: `Larder dataset version ${version.name}`,
        version: version.name,
        date_created: new Date().toISOString(),
        larder_version_id: version._id,
      },
      licenses: [],
      images,
      annotations,
      categories: labels.map((label, index) => ({
        id: index + 1,
        name: String(label.name),
        supercategory: '',
        larder_type: String(label.type),
      })),
    };
  }
}

function toCoco(row: StoredDocument, id: number, image: CocoImage, categoryId: number): CocoAnnotation {
  const shape = row.shape as Shape;
  const bbox = boundingBox(shape, image);
  const annotation: CocoAnnotation = {
    id,
    image_id: image.id,
    category_id: categoryId,
    bbox,
    segmentation: shape.type === 'polygon' ? [shape.points.flat()] : [],
    area: shapeArea(shape, image),
    iscrowd: 0,
    larder_status: String(row.status),
  };
  if (shape.type !== 'rectangle' && shape.type !== 'polygon') annotation.larder_shape = shape;
  return annotation;
}
