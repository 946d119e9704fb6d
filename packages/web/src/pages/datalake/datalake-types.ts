/**
 * The datalake records the pages read (see the server's `services/datalake`). An asset with
 * a `sha256` is a file asset (with a thumbnail when it is a picture); one without is a plain
 * document as Marcelle's clients write them, whose bytes are at `url` (`<sha256>/<file>`).
 */
export interface Asset {
  _id: string;
  url?: string;
  extension?: string;
  filename?: string;
  filenames?: string[];
  mime?: string;
  width?: number;
  height?: number;
  size?: number;
  tags?: string[];
  sha256?: string;
  createdAt?: string;
}

export interface Dataset {
  _id: string;
  name: string;
  description?: string;
  createdAt?: string;
}

export interface DatasetVersion {
  _id: string;
  datasetId: string;
  name: string;
  description?: string;
  published: boolean;
  assetCount: number;
  parentId: string | null;
  createdAt?: string;
}

export interface Label {
  _id: string;
  name: string;
  type: string;
}

export type Shape =
  | { type: 'rectangle'; x: number; y: number; width: number; height: number }
  | { type: 'polygon' | 'line'; points: [number, number][] }
  | { type: 'point'; x: number; y: number }
  | { type: 'classification' };

export interface Annotation {
  _id: string;
  assetId: string;
  labelId: string;
  shape: Shape;
  status: 'pending' | 'accepted' | 'rejected';
}

export interface Member {
  _id: string;
  assetId: string;
  asset?: Asset;
}
