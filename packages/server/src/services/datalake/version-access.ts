/**
 * Who may see and change a dataset version. Versions and labels carry their dataset's
 * owner and `public` flag, so the ownership policy answers for them directly; members and
 * annotations (too many to restamp when a dataset changes hands or visibility) are checked
 * through their version.
 */
import { and, eq, LarderError } from '@larder/protocol';
import { ownershipPolicy } from '../../auth/access-policy.js';
import type { Actor } from '../../auth/actor.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { VERSIONS } from './datalake-collections.js';

export interface VersionRecord extends StoredDocument {
  datasetId: string;
  name: string;
  published: boolean;
}

export class VersionAccess {
  constructor(private readonly store: DocumentStore) {}

  /** The version, when the actor may read it; NotFound otherwise. */
  async readable(actor: Actor, versionId: unknown): Promise<VersionRecord> {
    const id = this.assertId(versionId);
    const [version] = await this.store.find(VERSIONS, {
      filter: and(eq(['_id'], id), ownershipPolicy.readFilter(actor)),
      limit: 1,
    });
    if (!version) throw new LarderError('NotFound', `No dataset version '${id}' that you may read`);
    return version as VersionRecord;
  }

  /** The version, when the actor may change it and it is not published. */
  async changeable(actor: Actor, versionId: unknown): Promise<VersionRecord> {
    const version = await this.readable(actor, versionId);
    const writable = await this.store.count(
      VERSIONS,
      and(eq(['_id'], version._id), ownershipPolicy.writeFilter(actor)),
    );
    if (writable === 0) {
      throw new LarderError('Forbidden', `You may read but not change dataset version '${version.name}'`);
    }
    assertDraft(version);
    return version;
  }

  private assertId(versionId: unknown): string {
    if (typeof versionId !== 'string' || versionId === '' || versionId.includes(':')) {
      throw new LarderError('BadRequest', 'Say which dataset version: give "versionId"');
    }
    return versionId;
  }
}

/** Published versions are immutable. */
export function assertDraft(version: VersionRecord): void {
  if (version.published === true) {
    throw new LarderError(
      'Conflict',
      `Dataset version '${version.name}' is published and cannot change; create a new version from it`,
    );
  }
}
