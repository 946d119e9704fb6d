export { Datalake, type PushDatasetOptions } from './datalake.js';
export type {
  AnnotationRecord,
  CocoDocument,
  CocoImportReport,
  DatasetRecord,
  DatasetVersionRecord,
  LabelRecord,
  LabelType,
  Picture,
  ReviewStatus,
  Shape,
  TransferProgress,
} from './datalake-types.js';
export { type DatasetSummary, Datasets, splitDatasetPath } from './datasets.js';
export type { DownloadOptions, DownloadReport } from './picture-download.js';
export { type FetchOptions, type PictureQuery, Pictures, type PictureUploadOptions } from './pictures.js';
export { seededSample } from './seeded-sample.js';
