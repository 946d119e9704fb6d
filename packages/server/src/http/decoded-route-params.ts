/**
 * Feathers' router hands REST route parameters (the `:id` of `/things/:id`) over still
 * percent-encoded, so an id like `run:1@host`, sent as `run%3A1%40host` by every client
 * that encodes path segments, would not be found. This decodes them once, at the edge.
 */
import type { FeathersApp } from '../app/feathers-app.js';
import { decodePathSegment } from './path-segment.js';

function decode(value: unknown): unknown {
  return typeof value === 'string' ? decodePathSegment(value) : value;
}

export function decodeRouteParams(app: FeathersApp): void {
  const lookup = app.lookup.bind(app) as (path: string) => ReturnType<FeathersApp['lookup']> | null;
  app.lookup = ((path: string) => {
    const found = lookup(path);
    if (!found) return found;
    const params = Object.fromEntries(Object.entries(found.params ?? {}).map(([key, value]) => [key, decode(value)]));
    return { ...found, params };
  }) as FeathersApp['lookup'];
}
