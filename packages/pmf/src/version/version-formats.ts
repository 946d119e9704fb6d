/**
 * The registry of version formats, keyed by the snake_case name written to
 * `format.producer.version.format`. `py_pa` (PEP 440) and `semver` are registered.
 */
import { PmfError } from '../errors/pmf-error.js';
import { pep440Format } from './pep440-version.js';
import type { ProducerVersion, VersionFormat } from './producer-version.js';
import { semverFormat } from './semver-version.js';

const formats = new Map<string, VersionFormat>([
  [pep440Format.name, pep440Format],
  [semverFormat.name, semverFormat],
]);

/**
 * Registers (or replaces) a version format.
 *
 * @example
 * registerVersionFormat({ name: 'calendar', parse: (value) => CalendarVersion.parse(value) });
 */
export function registerVersionFormat(format: VersionFormat): void {
  if (!/^[a-z][a-z0-9_]*$/.test(format.name)) {
    throw new PmfError('unknown-version-format', `"${format.name}" is not a snake_case version format name`);
  }
  formats.set(format.name, format);
}

/** Removes a version format; returns whether it was registered. */
export function unregisterVersionFormat(name: string): boolean {
  return formats.delete(name);
}

/** The names of the registered formats. */
export function versionFormatNames(): string[] {
  return [...formats.keys()];
}

/**
 * Parses `value` with the format registered as `format`.
 *
 * @example
 * parseVersion('py_pa', '2.0.1.dev0').value; // '2.0.1.dev0'
 */
export function parseVersion(format: string, value: string): ProducerVersion {
  const registered = formats.get(format);
  if (!registered) {
    const known = versionFormatNames().join(', ');
    throw new PmfError('unknown-version-format', `Unknown version format "${format}" (registered: ${known})`);
  }
  return registered.parse(value);
}
