/**
 * How users name a model version: `resnet` (its `latest`), `resnet:3` or `resnet:v3` (a
 * version number), `resnet:production` (an alias). Model names never hold `:`.
 */

export type VersionReference = number | string;

export interface ModelReference {
  name: string;
  /** A version number, an alias, or `latest` when none is given. */
  version: VersionReference;
}

/**
 * @example
 * parseModelReference('resnet:production'); // { name: 'resnet', version: 'production' }
 * parseModelReference('resnet:v3');         // { name: 'resnet', version: 3 }
 */
export function parseModelReference(reference: string): ModelReference {
  const colon = reference.lastIndexOf(':');
  if (colon < 0) return { name: reference, version: 'latest' };
  return { name: reference.slice(0, colon), version: parseVersionReference(reference.slice(colon + 1)) };
}

/** `3` and `v3` are version numbers; anything else is an alias. */
export function parseVersionReference(text: string | number): VersionReference {
  if (typeof text === 'number') return text;
  const number = /^v?(\d{1,15})$/.exec(text);
  return number ? Number(number[1]) : text;
}
