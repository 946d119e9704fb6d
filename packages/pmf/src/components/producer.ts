/** The package that produced a model: its name, its version and the configuration file it used. */
import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { PmfModelError } from '../errors/pmf-error.js';
import { md5File } from '../files/md5.js';
import { PRODUCER_NAME } from '../metadata/pmf-metadata.js';
import type { ProducerVersion } from '../version/producer-version.js';
import { parseVersion } from '../version/version-formats.js';

/**
 * A model producer.
 *
 * @example
 * const producer = new Producer('my_package', 'py_pa', '1.2.0', 'configs/train.yaml');
 * producer.version.value; // '1.2.0'
 */
export class Producer {
  readonly name: string;
  readonly version: ProducerVersion;
  /** The path of the configuration file. */
  readonly configuration: string;

  /** Throws `PmfModelError` for a malformed name, an unknown format or version, or a missing configuration. */
  constructor(name: string, versionFormat: string, versionString: string, configuration: string) {
    if (!PRODUCER_NAME.test(name)) {
      throw new PmfModelError(
        'invalid-producer',
        `Producer name "${name}" must start with a letter and hold only letters, digits and "_"`,
      );
    }
    let isFile = false;
    try {
      isFile = statSync(configuration).isFile();
    } catch {
      isFile = false;
    }
    if (!isFile) throw new PmfModelError('not-found', `Configuration ${configuration} does not exist or is not a file`);
    this.name = name;
    this.version = parseVersion(versionFormat, versionString);
    this.configuration = configuration;
  }

  /** Same name and equal versions. */
  equals(other: Producer): boolean {
    return (
      this.name === other.name && this.version.format === other.version.format && this.version.equals(other.version)
    );
  }

  /** Same name, equal versions and configuration files with the same content. */
  async strictEquals(other: Producer): Promise<boolean> {
    if (!this.equals(other)) return false;
    const [mine, theirs] = await Promise.all([stat(this.configuration), stat(other.configuration)]);
    if (mine.size !== theirs.size) return false;
    const [left, right] = await Promise.all([md5File(this.configuration), md5File(other.configuration)]);
    return left === right;
  }
}
