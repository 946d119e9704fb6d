/**
 * `/organizations`: groups of users that folders (and everything in them) can be shared
 * with. Creating one makes its creator an admin and gives it a home folder `/<name>`
 * that its members may write. Admins of an organisation change its `members`
 * (`[{ userId | email, role: 'admin' | 'member' }]`: roles and removals of members); new
 * people join only by accepting an invitation (`organization-invitations.ts`), so nobody is
 * added without consent and nobody learns which e-mails have accounts. Each user's record
 * keeps the list of their organisations, which the folder policy reads as `org:<id>` principals.
 */
import { createHash } from 'node:crypto';
import { and, eq, type Filter, LarderError, MATCH_ALL, not, or } from '@larder/protocol';
import type { AccessPolicy } from '../../auth/access-policy.js';
import { ownershipPolicy } from '../../auth/access-policy.js';
import { type Actor, isAllPowerful } from '../../auth/actor.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { type DocumentParams, DocumentService } from '../documents/document-service.js';
import { FolderTree } from '../folders/folder-tree.js';
import { USERS_COLLECTION } from '../users/users-service.js';

export const ORGANIZATIONS_COLLECTION = 'organizations';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$/;
const NOTHING: Filter = not(MATCH_ALL);

type Role = 'admin' | 'member';
type Member = { userId: string; role: Role };
type Id = string | number | null;

export const organizationPolicy: AccessPolicy = {
  readFilter(actor: Actor) {
    if (isAllPowerful(actor)) return MATCH_ALL;
    if (actor.kind !== 'user') return NOTHING;
    return eq(['memberIds'], actor.user._id);
  },
  writeFilter(actor: Actor) {
    if (isAllPowerful(actor)) return MATCH_ALL;
    if (actor.kind !== 'user') return NOTHING;
    return eq(['adminIds'], actor.user._id);
  },
  canCreate: (actor) => actor.kind === 'user' || isAllPowerful(actor),
  stampOnCreate: ownershipPolicy.stampOnCreate,
};

export class OrganizationsService extends DocumentService {
  private readonly folders: FolderTree;

  constructor(store: DocumentStore, authEnabled: boolean) {
    super({ store, collection: ORGANIZATIONS_COLLECTION, policy: organizationPolicy, authEnabled });
    this.folders = new FolderTree(store);
  }

  override async create(data: unknown, params?: DocumentParams): Promise<StoredDocument> {
    const actor = this.actor(params);
    if (actor.kind !== 'user')
      throw new LarderError('BadRequest', 'Organisations need auth: sign in as their first admin');
    const { name, description } = (data ?? {}) as { name?: unknown; description?: unknown };
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw new LarderError('BadRequest', 'An organisation name is 2-64 letters, digits, ".", "_" or "-"');
    }
    const _id = `o${createHash('sha256').update(name.toLowerCase()).digest('hex').slice(0, 32)}`;
    const members: Member[] = [{ userId: actor.user._id, role: 'admin' }];
    const now = new Date().toISOString();
    const record = {
      _id,
      name,
      ...(typeof description === 'string' ? { description } : {}),
      userId: actor.user._id,
      members,
      ...memberIndexes(members),
      createdAt: now,
      updatedAt: now,
    };
    await this.store.ensureCollection(ORGANIZATIONS_COLLECTION);
    try {
      await this.store.insert(ORGANIZATIONS_COLLECTION, [record]);
    } catch (error) {
      if (error instanceof LarderError && error.name === 'Conflict') {
        throw new LarderError('Conflict', `An organisation named ${name} already exists`);
      }
      throw error;
    }
    await this.folders.createRoot(`/${name}`, actor.user._id, [{ principal: `org:${_id}`, access: 'write' }]);
    await this.syncUsers(_id, [], members);
    return record;
  }

  override async update(): Promise<StoredDocument> {
    throw new LarderError('MethodNotAllowed', 'Change an organisation with patch ({ members, description })');
  }

  override async patch(id: Id, data: unknown, params?: DocumentParams): Promise<StoredDocument> {
    if (id === null) throw new LarderError('BadRequest', 'Patch one organisation at a time');
    const actor = this.actor(params);
    const { members, description, ...rest } = (data ?? {}) as { members?: unknown; description?: unknown };
    if (Object.keys(rest).length > 0) {
      throw new LarderError('BadRequest', 'Only "members" and "description" of an organisation can change');
    }
    const current = await this.get(id, params);
    const before = (current.members ?? []) as Member[];
    const after = members === undefined ? before : await this.resolveMembers(members, before);
    if (!after.some((member) => member.role === 'admin')) {
      throw new LarderError('BadRequest', 'An organisation keeps at least one admin');
    }
    const [changed] = await this.store.modify(
      ORGANIZATIONS_COLLECTION,
      and(eq(['_id'], current._id), this.policy.writeFilter(actor)),
      (record) => ({
        ...record,
        members: after,
        ...memberIndexes(after),
        ...(typeof description === 'string' ? { description } : {}),
        updatedAt: new Date().toISOString(),
      }),
    );
    if (!changed) throw new LarderError('Forbidden', `Only admins of ${String(current.name)} can change it`);
    await this.syncUsers(current._id, before, after);
    return changed.after;
  }

  /** Adds a member who accepted an invitation (or changes nothing when they already are one). */
  async join(orgId: string, userId: string, role: Role): Promise<void> {
    let before: Member[] = [];
    let after: Member[] = [];
    await this.store.modify(ORGANIZATIONS_COLLECTION, eq(['_id'], orgId), (record) => {
      before = (record.members ?? []) as Member[];
      if (before.some((member) => member.userId === userId)) {
        after = before;
        return record;
      }
      after = [...before, { userId, role }];
      return { ...record, members: after, ...memberIndexes(after), updatedAt: new Date().toISOString() };
    });
    await this.syncUsers(orgId, before, after);
  }

  override async remove(id: Id, params?: DocumentParams): Promise<StoredDocument> {
    const removed = (await super.remove(id, params)) as StoredDocument;
    await this.syncUsers(removed._id, (removed.members ?? []) as Member[], []);
    return removed;
  }

  /** The new member list: only people who are members already (roles change, members leave). */
  private async resolveMembers(value: unknown, current: readonly Member[]): Promise<Member[]> {
    if (!Array.isArray(value) || value.length > 10_000) {
      throw new LarderError('BadRequest', '"members" is a list of { userId | email, role: "admin" | "member" }');
    }
    const members = new Map<string, Member>();
    for (const [index, entry] of value.entries()) {
      const { userId, email, role = 'member' } = (entry ?? {}) as { userId?: unknown; email?: unknown; role?: unknown };
      if (role !== 'admin' && role !== 'member')
        throw new LarderError('BadRequest', `Member ${index}: role is "admin" or "member"`);
      const filter =
        typeof userId === 'string'
          ? eq(['_id'], userId)
          : typeof email === 'string'
            ? eq(['email'], email.toLowerCase())
            : undefined;
      if (!filter) throw new LarderError('BadRequest', `Member ${index} needs a "userId" or an "email"`);
      const [user] = await this.store.find(USERS_COLLECTION, { filter, limit: 1 });
      if (!user || !current.some((member) => member.userId === user._id)) {
        throw new LarderError(
          'BadRequest',
          `Member ${index} is not a member yet: invite them (POST /organization-invitations ` +
            '{ organizationId, email, role }); they join when they accept',
        );
      }
      members.set(user._id, { userId: user._id, role });
    }
    return [...members.values()];
  }

  /** Keeps each user's `organizations` list in step with memberships. */
  private async syncUsers(orgId: string, before: Member[], after: Member[]): Promise<void> {
    const was = new Set(before.map((member) => member.userId));
    const is = new Set(after.map((member) => member.userId));
    const changed = [...new Set([...was, ...is])].filter((userId) => was.has(userId) !== is.has(userId));
    if (changed.length === 0) return;
    await this.store.modify(USERS_COLLECTION, or(...changed.map((userId) => eq(['_id'], userId))), (user) => {
      const list = Array.isArray(user.organizations) ? user.organizations.filter((each) => each !== orgId) : [];
      return { ...user, organizations: is.has(user._id) ? [...list, orgId] : list };
    });
  }
}

function memberIndexes(members: Member[]) {
  return {
    memberIds: members.map((member) => member.userId),
    adminIds: members.filter((member) => member.role === 'admin').map((member) => member.userId),
  };
}
