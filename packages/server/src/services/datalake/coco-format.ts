/**
 * The COCO object-detection format as Larder writes and reads it. Shapes COCO cannot
 * express (points, lines, whole-picture classes) are written with their box and area and
 * kept losslessly in a `larder_shape` field, which import reads back; other tools ignore it.
 */
export interface CocoImage {
  id: number;
  file_name: string;
  width: number;
  height: number;
  larder_asset_id?: string;
}

export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  bbox: [number, number, number, number];
  segmentation: number[][] | Record<string, unknown>;
  area: number;
  iscrowd: 0 | 1;
  larder_shape?: unknown;
  larder_status?: string;
}

export interface CocoCategory {
  id: number;
  name: string;
  supercategory: string;
  larder_type?: string;
}

export interface CocoDocument {
  info: Record<string, unknown>;
  licenses: unknown[];
  images: CocoImage[];
  annotations: CocoAnnotation[];
  categories: CocoCategory[];
}
