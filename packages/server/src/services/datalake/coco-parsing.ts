/**
 * Reading COCO written by any tool: the structure is checked with a message naming the
 * first offending field, and each annotation becomes Larder shapes for its label's type
 * (a polygon segmentation of several parts becomes several polygons).
 */
import { LarderError } from '@larder/protocol';
import { type LabelType, parseShape, type Shape } from './annotation-shapes.js';

export interface ParsedCoco {
  images: { id: number; file_name: string }[];
  categories: { id: number; name: string; larder_type?: unknown }[];
  annotations: {
    image_id: number;
    category_id: number;
    bbox?: [number, number, number, number];
    polygons: number[][];
    larder_shape?: unknown;
  }[];
}

const MAX_ANNOTATIONS = 2_000_000;

function fail(message: string): never {
  throw new LarderError('BadRequest', `Not valid COCO: ${message}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function list(value: unknown, what: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(`"${what}" must be a list`);
  return value;
}

function integer(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) fail(`${what} must be an integer`);
  return value;
}

export function parseCoco(value: unknown): ParsedCoco {
  if (!isRecord(value)) fail('the document must be a JSON object with images, annotations and categories');
  const images = list(value.images, 'images').map((image, index) => {
    if (!isRecord(image)) fail(`images[${index}] must be an object`);
    if (typeof image.file_name !== 'string' || image.file_name === '')
      fail(`images[${index}].file_name must be a string`);
    return { id: integer(image.id, `images[${index}].id`), file_name: image.file_name };
  });
  const categories = list(value.categories, 'categories').map((category, index) => {
    if (!isRecord(category)) fail(`categories[${index}] must be an object`);
    if (typeof category.name !== 'string' || category.name.trim() === '')
      fail(`categories[${index}].name must be a string`);
    if (category.name.length > 100 || category.name.includes('/')) {
      fail(`categories[${index}].name must be at most 100 characters, without "/"`);
    }
    return {
      id: integer(category.id, `categories[${index}].id`),
      name: category.name.trim(),
      larder_type: category.larder_type,
    };
  });
  const raw = list(value.annotations, 'annotations');
  if (raw.length > MAX_ANNOTATIONS) fail(`at most ${MAX_ANNOTATIONS} annotations per import`);
  const annotations = raw.map((annotation, index) => {
    const where = `annotations[${index}]`;
    if (!isRecord(annotation)) fail(`${where} must be an object`);
    let bbox: [number, number, number, number] | undefined;
    if (annotation.bbox !== undefined) {
      const box = annotation.bbox;
      if (!Array.isArray(box) || box.length !== 4 || !box.every((n) => typeof n === 'number' && Number.isFinite(n))) {
        fail(`${where}.bbox must be [x, y, width, height]`);
      }
      bbox = box as [number, number, number, number];
    }
    const polygons: number[][] = [];
    if (Array.isArray(annotation.segmentation)) {
      for (const part of annotation.segmentation) {
        if (
          !Array.isArray(part) ||
          part.length % 2 !== 0 ||
          !part.every((n) => typeof n === 'number' && Number.isFinite(n))
        ) {
          fail(`${where}.segmentation must be a list of [x1, y1, x2, y2, …] polygons`);
        }
        if (part.length >= 6) polygons.push(part as number[]);
      }
    }
    return {
      image_id: integer(annotation.image_id, `${where}.image_id`),
      category_id: integer(annotation.category_id, `${where}.category_id`),
      ...(bbox ? { bbox } : {}),
      polygons,
      larder_shape: annotation.larder_shape,
    };
  });
  const categoryIds = new Set(categories.map((category) => category.id));
  const imageIds = new Set(images.map((image) => image.id));
  annotations.forEach((annotation, index) => {
    if (!categoryIds.has(annotation.category_id)) fail(`annotations[${index}].category_id names no category`);
    if (!imageIds.has(annotation.image_id)) fail(`annotations[${index}].image_id names no image`);
  });
  return { images, categories, annotations };
}

/** The label type a new category gets, from how its annotations are drawn. */
export function labelTypeFor(
  category: ParsedCoco['categories'][number],
  annotations: ParsedCoco['annotations'],
): LabelType {
  const declared = category.larder_type;
  if (
    declared === 'rectangle' ||
    declared === 'polygon' ||
    declared === 'point' ||
    declared === 'line' ||
    declared === 'classification'
  ) {
    return declared;
  }
  const own = annotations.filter((annotation) => annotation.category_id === category.id);
  if (own.some((annotation) => annotation.polygons.length > 0)) return 'polygon';
  if (own.length === 0 || own.some((annotation) => annotation.bbox)) return 'rectangle';
  return 'classification';
}

/** The shapes one COCO annotation becomes under a label of `type`. */
export function cocoShape(annotation: ParsedCoco['annotations'][number], type: LabelType): Shape[] {
  if (annotation.larder_shape !== undefined) {
    const shape = parseShape(annotation.larder_shape, 'larder_shape');
    if (shape.type === type) return [shape];
  }
  const box = annotation.bbox ?? boxOfPolygons(annotation.polygons);
  switch (type) {
    case 'polygon':
      if (annotation.polygons.length > 0) {
        return annotation.polygons.map((flat) => ({
          type: 'polygon',
          points: Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i] as number, flat[2 * i + 1] as number]),
        }));
      }
      if (!box) return [];
      return [
        {
          type: 'polygon',
          points: [
            [box[0], box[1]],
            [box[0] + box[2], box[1]],
            [box[0] + box[2], box[1] + box[3]],
            [box[0], box[1] + box[3]],
          ],
        },
      ];
    case 'rectangle':
      return box
        ? [{ type: 'rectangle', x: box[0], y: box[1], width: Math.max(0, box[2]), height: Math.max(0, box[3]) }]
        : [];
    case 'point':
      return box ? [{ type: 'point', x: box[0] + box[2] / 2, y: box[1] + box[3] / 2 }] : [];
    case 'line':
      return box
        ? [
            {
              type: 'line',
              points: [
                [box[0], box[1]],
                [box[0] + box[2], box[1] + box[3]],
              ],
            },
          ]
        : [];
    case 'classification':
      return [{ type: 'classification' }];
  }
}

function boxOfPolygons(polygons: number[][]): [number, number, number, number] | undefined {
  const xs = polygons.flatMap((flat) => flat.filter((_, i) => i % 2 === 0));
  const ys = polygons.flatMap((flat) => flat.filter((_, i) => i % 2 === 1));
  if (xs.length === 0) return undefined;
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return [x, y, Math.max(...xs) - x, Math.max(...ys) - y];
}
