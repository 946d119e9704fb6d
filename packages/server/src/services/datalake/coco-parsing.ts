/**
 * Reading COCO written by any tool: the structure is checked and every offending field of
 * the file is named at once (so one fix-and-retry mends them all), and each annotation becomes Larder shapes for its label's type
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
/** Problems named in the error message; all of them are in its `errors`. */
const PROBLEMS_IN_MESSAGE = 20;

/** A problem of the document: the element it names is left out, and parsing goes on. */
class Skip extends Error {}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The document as Larder reads it, or a BadRequest listing every problem of the file at
 * once (in the message, the first few; in `errors`, all of them).
 */
export function parseCoco(value: unknown): ParsedCoco {
  const problems: string[] = [];
  const fail = (message: string): never => {
    problems.push(message);
    throw new Skip(message);
  };
  /** `read(index)` for each element; an element with a problem is left out. */
  const each = <T>(items: unknown[], read: (item: unknown, index: number) => T): T[] => {
    const kept: T[] = [];
    items.forEach((item, index) => {
      try {
        kept.push(read(item, index));
      } catch (error) {
        if (!(error instanceof Skip)) throw error;
      }
    });
    return kept;
  };
  const list = (field: unknown, what: string): unknown[] => {
    if (field === undefined) return [];
    if (!Array.isArray(field)) {
      problems.push(`"${what}" must be a list`);
      return [];
    }
    return field;
  };
  if (!isRecord(value)) {
    throw new LarderError(
      'BadRequest',
      'Not valid COCO: the document must be a JSON object with images, annotations and categories',
    );
  }
  const images = each(list(value.images, 'images'), (image, index) => {
    if (!isRecord(image)) return fail(`images[${index}] must be an object`);
    const found: string[] = [];
    if (typeof image.file_name !== 'string' || image.file_name === '') {
      found.push(`images[${index}].file_name must be a string`);
    }
    if (typeof image.id !== 'number' || !Number.isInteger(image.id))
      found.push(`images[${index}].id must be an integer`);
    if (found.length > 0) {
      problems.push(...found);
      throw new Skip(`images[${index}]`);
    }
    return { id: image.id as number, file_name: image.file_name as string };
  });
  const categories = each(list(value.categories, 'categories'), (category, index) => {
    if (!isRecord(category)) return fail(`categories[${index}] must be an object`);
    const found: string[] = [];
    const name = category.name;
    if (typeof name !== 'string' || name.trim() === '') found.push(`categories[${index}].name must be a string`);
    else if (name.length > 100 || name.includes('/')) {
      found.push(`categories[${index}].name must be at most 100 characters, without "/"`);
    }
    if (typeof category.id !== 'number' || !Number.isInteger(category.id)) {
      found.push(`categories[${index}].id must be an integer`);
    }
    if (found.length > 0) {
      problems.push(...found);
      throw new Skip(`categories[${index}]`);
    }
    return { id: category.id as number, name: (name as string).trim(), larder_type: category.larder_type };
  });
  const raw = list(value.annotations, 'annotations');
  if (raw.length > MAX_ANNOTATIONS) {
    throw new LarderError('BadRequest', `Not valid COCO: at most ${MAX_ANNOTATIONS} annotations per import`);
  }
  const categoryIds = new Set(categories.map((category) => category.id));
  const imageIds = new Set(images.map((image) => image.id));
  const annotations = each(raw, (annotation, index) => {
    const where = `annotations[${index}]`;
    if (!isRecord(annotation)) return fail(`${where} must be an object`);
    const before = problems.length;
    const note = (message: string) => {
      problems.push(message);
    };
    let bbox: [number, number, number, number] | undefined;
    if (annotation.bbox !== undefined) {
      const box = annotation.bbox;
      if (!Array.isArray(box) || box.length !== 4 || !box.every((n) => typeof n === 'number' && Number.isFinite(n))) {
        note(`${where}.bbox must be [x, y, width, height]`);
      } else bbox = box as [number, number, number, number];
    }
    const polygons: number[][] = [];
    if (Array.isArray(annotation.segmentation)) {
      for (const part of annotation.segmentation) {
        if (
          !Array.isArray(part) ||
          part.length % 2 !== 0 ||
          !part.every((n) => typeof n === 'number' && Number.isFinite(n))
        ) {
          note(`${where}.segmentation must be a list of [x1, y1, x2, y2, …] polygons`);
          break;
        }
        if (part.length >= 6) polygons.push(part as number[]);
      }
    }
    const imageId = annotation.image_id;
    const categoryId = annotation.category_id;
    if (typeof imageId !== 'number' || !Number.isInteger(imageId)) note(`${where}.image_id must be an integer`);
    else if (!imageIds.has(imageId)) note(`${where}.image_id names no image`);
    if (typeof categoryId !== 'number' || !Number.isInteger(categoryId))
      note(`${where}.category_id must be an integer`);
    else if (!categoryIds.has(categoryId)) note(`${where}.category_id names no category`);
    if (annotation.larder_shape !== undefined) {
      try {
        parseShape(annotation.larder_shape, `${where}.larder_shape`);
      } catch (error) {
        note(error instanceof Error ? error.message : String(error));
      }
    }
    if (problems.length > before) throw new Skip(where);
    return {
      image_id: imageId as number,
      category_id: categoryId as number,
      ...(bbox ? { bbox } : {}),
      polygons,
      larder_shape: annotation.larder_shape,
    };
  });
  if (problems.length > 0) {
    const shown = problems.slice(0, PROBLEMS_IN_MESSAGE).join('; ');
    const more = problems.length > PROBLEMS_IN_MESSAGE ? `; and ${problems.length - PROBLEMS_IN_MESSAGE} more` : '';
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    throw new LarderError('BadRequest', `Not valid COCO (${count}): ${shown}${more}`, { errors: problems });
  }
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
