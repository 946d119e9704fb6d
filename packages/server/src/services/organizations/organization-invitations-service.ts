/**
 * `/organization-invitations`: how people join an organisation. An admin of the organisation
 * invites an e-mail address (`create { organizationId, email, role }`); the answer is the
 * same whether or not an account has that address, so invitations tell nobody which e-mails
 * have accounts. The invitee sees the invitations addressed to their e-mail and accepts
 * (`patch { accepted: true }`: they join) or declines (`remove`); the organisation's admins
 * see, and may withdraw, the invitations they sent.
 */
import { and, eq, type Filter, LarderError, MATCH_ALL, newId, not, or } from '@larder/protocol';
import type { AccessPolicy } from '../../auth/access-policy.js';
import { type Actor, isAllPowerful } from '../../auth/actor.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { type DocumentParams, DocumentService } from '../documents/document-service.js';
import { ORGANIZATIONS_COLLECTION, type OrganizationsService } from './organizations-service.js';

export const INVITATIONS_COLLECTION = 'organization-invitations';
const EMAIL = /^[^@\s]{1,128}@[^@\s]{1,255}$/;
const NOTHING: Filter = not(MATCH_ALL);

type Id = string | number | null;

function emailOf(actor: Actor): string | undefined {
  return actor.kind === 'user' && typeof actor.user.email === 'string' ? actor.user.email.toLowerCase() : undefined;
}

/** The invitee (by e-mail) and the organisation's admins at the time of the invitation. */
export const invitationPolicy: AccessPolicy = {
  readFilter(actor) {
    if (isAllPowerful(actor)) return MATCH_ALL;
    if (actor.kind !== 'user') return NOTHING;
    return or(eq(['email'], emailOf(actor) ?? ''), eq(['adminIds'], actor.user._id));
  },
  writeFilter(actor) {
    return invitationPolicy.readFilter(actor);
  },
  canCreate: (actor) => actor.kind === 'user' || isAllPowerful(actor),
  stampOnCreate: () => {},
};

export class OrganizationInvitationsService extends DocumentService {
  constructor(
    store: DocumentStore,
    authEnabled: boolean,
    private readonly organizations: OrganizationsService,
  ) {
    super({ store, collection: INVITATIONS_COLLECTION, policy: invitationPolicy, authEnabled });
  }

  override async create(data: unknown, params?: DocumentParams): Promise<StoredDocument> {
    const actor = this.actor(params);
    if (Array.isArray(data)) throw new LarderError('BadRequest', 'Invite one person at a time');
    const { organizationId, email, role = 'member' } = (data ?? {}) as Record<string, unknown>;
    if (typeof organizationId !== 'string') throw new LarderError('BadRequest', '"organizationId" is required');
    if (typeof email !== 'string' || !EMAIL.test(email)) throw new LarderError('BadRequest', 'Invite a valid "email"');
    if (role !== 'admin' && role !== 'member') throw new LarderError('BadRequest', 'role is "admin" or "member"');
    const [org] = await this.store.find(ORGANIZATIONS_COLLECTION, {
      filter: and(eq(['_id'], organizationId), this.organizations.policy.writeFilter(actor)),
      limit: 1,
    });
    if (!org) throw new LarderError('NotFound', `No organisation ${organizationId} that you administer`);
    const address = email.toLowerCase();
    const [pending] = await this.store.find(this.collection, {
      filter: and(eq(['organizationId'], org._id), eq(['email'], address)),
      limit: 1,
    });
    if (pending) return pending;
    const now = new Date().toISOString();
    const record: StoredDocument = {
      _id: newId(),
      organizationId: org._id,
      organizationName: org.name ?? null,
      email: address,
      role,
      invitedBy: actor.kind === 'user' ? actor.user._id : null,
      adminIds: (org.adminIds ?? []) as StoredDocument[string],
      createdAt: now,
      updatedAt: now,
    };
    await this.store.ensureCollection(this.collection);
    await this.store.insert(this.collection, [record]);
    return record;
  }

  override async update(): Promise<StoredDocument> {
    throw new LarderError(
      'MethodNotAllowed',
      'Accept an invitation with patch { accepted: true }, decline with remove',
    );
  }

  /** The invitee accepts: they join the organisation with the invited role, and the invitation is used up. */
  override async patch(id: Id, data: unknown, params?: DocumentParams): Promise<StoredDocument> {
    const actor = this.actor(params);
    if (id === null) throw new LarderError('BadRequest', 'Accept one invitation at a time');
    if ((data as { accepted?: unknown } | null)?.accepted !== true) {
      throw new LarderError('BadRequest', 'Accept an invitation with { "accepted": true }; decline it with remove');
    }
    const invitation = await this.get(id, params);
    const email = emailOf(actor);
    if (actor.kind !== 'user' || invitation.email !== email) {
      throw new LarderError('Forbidden', 'Only the person invited can accept an invitation');
    }
    await this.organizations.join(String(invitation.organizationId), actor.user._id, invitation.role as 'admin');
    await this.store.remove(this.collection, eq(['_id'], invitation._id));
    return { ...invitation, accepted: true };
  }
}
