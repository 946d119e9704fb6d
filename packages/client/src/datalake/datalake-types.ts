/** The records of the datalake as the server answers them. */
import type { DataRecord } from '../datastore/service-types.js';

export interface BlobRefRecord {
  sha256: string;
  size: number;
}

/** A picture (or other data file) of the datalake. */
export interface Picture extends DataRecord {
  _id: string;
  sha256: string;
  size: number;
  filename: string;
  mime: string;
  width?: number;
  height?: number;
  tags: string[];
  source: string;
  /** Made on the first view of `/assets/<id>/thumbnail`; null when the picture cannot be decoded. */
  thumbnail?: BlobRefRecord | null;
  userId?: string;
  createdAt: string;
}

export interface DatasetRecord extends DataRecord {
  _id: string;
  name: string;
  description?: string;
  public: boolean;
  userId?: string;
}

export interface DatasetVersionRecord extends DataRecord {
  _id: string;
  datasetId: string;
  name: string;
  description: string;
  parentId: string | null;
  published: boolean;
  publishedAt?: string;
  assetCount: number;
}

export type LabelType = 'rectangle' | 'polygon' | 'point' | 'line' | 'classification';
export type ReviewStatus = 'pending' | 'accepted' | 'rejected';

export interface LabelRecord extends DataRecord {
  _id: string;
  versionId: string;
  name: string;
  type: LabelType;
}

export type Shape =
  | { type: 'rectangle'; x: number; y: number; width: number; height: number }
  | { type: 'polygon' | 'line'; points: [number, number][] }
  | { type: 'point'; x: number; y: number }
  | { type: 'classification' };

export interface AnnotationRecord extends DataRecord {
  _id: string;
  versionId: string;
  assetId: string;
  labelId: string;
  label: string;
  shape: Shape;
  status: ReviewStatus;
}

/** A COCO document as the server exports it. */
export interface CocoDocument {
  info: Record<string, unknown>;
  licenses: unknown[];
  images: { id: number; file_name: string; width: number; height: number; larder_asset_id?: string }[];
  annotations: {
    id: number;
    image_id: number;
    category_id: number;
    bbox: [number, number, number, number];
    segmentation: number[][];
    area: number;
    iscrowd: 0 | 1;
    [key: string]: unknown;
  }[];
  categories: { id: number; name: string; supercategory: string; [key: string]: unknown }[];
}

export interface CocoImportReport {
  images: number;
  matched: number;
  unmatched: string[];
  labelsCreated: number;
  annotations: number;
}

/** Progress of a transfer of many files. */
export interface TransferProgress {
  done: number;
  total: number;
  bytes: number;
}
