/**
 * The shapes an annotation draws, one per label type, in picture pixels:
 * - rectangle `{ type, x, y, width, height }` (top-left corner and size)
 * - polygon `{ type, points: [[x, y], …] }` (three points or more)
 * - point `{ type, x, y }`
 * - line `{ type, points: [[x, y], …] }` (a polyline of two points or more)
 * - classification `{ type }` (the whole picture)
 */
import { LarderError } from '@larder/protocol';

export const LABEL_TYPES = ['rectangle', 'polygon', 'point', 'line', 'classification'] as const;
export type LabelType = (typeof LABEL_TYPES)[number];

export type Shape =
  | { type: 'rectangle'; x: number; y: number; width: number; height: number }
  | { type: 'polygon' | 'line'; points: [number, number][] }
  | { type: 'point'; x: number; y: number }
  | { type: 'classification' };

const MAX_POINTS = 10_000;

export function isLabelType(value: unknown): value is LabelType {
  return typeof value === 'string' && (LABEL_TYPES as readonly string[]).includes(value);
}

function coordinate(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new LarderError('BadRequest', `${what} must be a finite number`);
  }
  return value;
}

/** Checks a shape sent by a client and answers a clean copy. */
export function parseShape(value: unknown, what = 'The shape'): Shape {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new LarderError('BadRequest', `${what} must be an object with a "type"`);
  }
  const shape = value as Record<string, unknown>;
  switch (shape.type) {
    case 'rectangle': {
      const width = coordinate(shape.width, `${what}'s width`);
      const height = coordinate(shape.height, `${what}'s height`);
      if (width < 0 || height < 0) throw new LarderError('BadRequest', `${what} cannot have a negative size`);
      return {
        type: 'rectangle',
        x: coordinate(shape.x, `${what}'s x`),
        y: coordinate(shape.y, `${what}'s y`),
        width,
        height,
      };
    }
    case 'point':
      return { type: 'point', x: coordinate(shape.x, `${what}'s x`), y: coordinate(shape.y, `${what}'s y`) };
    case 'polygon':
    case 'line': {
      const minimum = shape.type === 'polygon' ? 3 : 2;
      if (!Array.isArray(shape.points) || shape.points.length < minimum || shape.points.length > MAX_POINTS) {
        throw new LarderError('BadRequest', `A ${shape.type} has ${minimum} to ${MAX_POINTS} points`);
      }
      const points = shape.points.map((point, index): [number, number] => {
        if (!Array.isArray(point) || point.length !== 2) {
          throw new LarderError('BadRequest', `Point ${index} of ${what} must be [x, y]`);
        }
        return [coordinate(point[0], `${what}'s point ${index}`), coordinate(point[1], `${what}'s point ${index}`)];
      });
      return { type: shape.type, points };
    }
    case 'classification':
      return { type: 'classification' };
    default:
      throw new LarderError('BadRequest', `${what}'s type must be one of ${LABEL_TYPES.join(', ')}`);
  }
}

/** The smallest axis-aligned box around a shape, `[x, y, width, height]`. */
export function boundingBox(
  shape: Shape,
  picture: { width: number; height: number },
): [number, number, number, number] {
  switch (shape.type) {
    case 'rectangle':
      return [shape.x, shape.y, shape.width, shape.height];
    case 'point':
      return [shape.x, shape.y, 0, 0];
    case 'classification':
      return [0, 0, picture.width, picture.height];
    default: {
      const xs = shape.points.map((point) => point[0]);
      const ys = shape.points.map((point) => point[1]);
      const x = Math.min(...xs);
      const y = Math.min(...ys);
      return [x, y, Math.max(...xs) - x, Math.max(...ys) - y];
    }
  }
}

/** The area a shape covers (shoelace formula for polygons; lines and points cover none). */
export function shapeArea(shape: Shape, picture: { width: number; height: number }): number {
  switch (shape.type) {
    case 'rectangle':
      return shape.width * shape.height;
    case 'polygon': {
      let twice = 0;
      shape.points.forEach(([x, y], index) => {
        const [nextX, nextY] = shape.points[(index + 1) % shape.points.length] as [number, number];
        twice += x * nextY - nextX * y;
      });
      return Math.abs(twice) / 2;
    }
    case 'classification':
      return picture.width * picture.height;
    default:
      return 0;
  }
}
