/**
 * User accounts (`/users`): email, bcrypt-hashed password, role. Passwords never leave the
 * server; emails are unique (case-insensitively); only admins grant roles.
 */
import { eq, LarderError } from '@larder/protocol';
import bcrypt from 'bcryptjs';
import { isAllPowerful } from '../../auth/actor.js';
import { selfPolicy } from '../../auth/self-policy.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { type DocumentParams, DocumentService } from '../documents/document-service.js';

export const USERS_COLLECTION = '_users';
const BCRYPT_ROUNDS = 10;
const EMAIL = /^[^@\s]{1,128}@[^@\s]{1,255}$/;
const MIN_PASSWORD = 8;

type Id = string | number | null;

export class UsersService extends DocumentService {
  constructor(store: DocumentStore, options: { authEnabled: boolean; openSignup: boolean }) {
    super({
      store,
      collection: USERS_COLLECTION,
      policy: selfPolicy(options.openSignup),
      authEnabled: options.authEnabled,
    });
  }

  override async find(params?: DocumentParams) {
    return this.protect(await super.find(params), params);
  }

  override async get(id: Id, params?: DocumentParams) {
    return this.protect(await super.get(id, params), params);
  }

  override async create(data: unknown, params?: DocumentParams) {
    if (Array.isArray(data)) throw new LarderError('BadRequest', 'Create one user at a time');
    const user = await this.prepareAccount(data, params, true);
    const email = user.email as string;
    if ((await this.store.count(this.collection, eq(['email'], email))) > 0) {
      throw new LarderError('Conflict', `A user with email ${email} already exists`);
    }
    return this.protect(await super.create(user, params), params);
  }

  override async update(id: Id, data: unknown, params?: DocumentParams) {
    return this.protect(await super.update(id, await this.prepareAccount(data, params, true), params), params);
  }

  override async patch(id: Id, data: unknown, params?: DocumentParams) {
    return this.protect(await super.patch(id, await this.prepareAccount(data, params, false), params), params);
  }

  override async remove(id: Id, params?: DocumentParams) {
    return this.protect(await super.remove(id, params), params);
  }

  /** Validates account fields and hashes a new password. */
  private async prepareAccount(data: unknown, params: DocumentParams | undefined, whole: boolean) {
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw new LarderError('BadRequest', 'The user must be a JSON object');
    }
    const account = { ...(data as Record<string, unknown>) };
    if (whole || account.email !== undefined) {
      if (typeof account.email !== 'string' || !EMAIL.test(account.email)) {
        throw new LarderError('BadRequest', 'A user needs a valid "email"');
      }
      account.email = account.email.toLowerCase();
    }
    if (whole || account.password !== undefined) {
      if (typeof account.password !== 'string' || account.password.length < MIN_PASSWORD) {
        throw new LarderError('BadRequest', `A password must be a string of at least ${MIN_PASSWORD} characters`);
      }
      account.password = await bcrypt.hash(account.password, BCRYPT_ROUNDS);
    }
    const actor = this.caller(params);
    if (account.role !== undefined && !isAllPowerful(actor)) {
      throw new LarderError('Forbidden', 'Only an admin can set a role');
    }
    if (account.role !== undefined && account.role !== 'admin' && account.role !== 'user') {
      throw new LarderError('BadRequest', 'role must be "admin" or "user"');
    }
    if (whole && account.role === undefined) account.role = 'user';
    if (account.organizations !== undefined) {
      throw new LarderError('Forbidden', 'Organisation membership is managed through /organizations');
    }
    return account;
  }

  /** Membership is kept by the organisations service; account writes never change it. */
  protected override prepareForWrite(record: StoredDocument, before: StoredDocument | undefined): StoredDocument {
    const { organizations: _dropped, ...rest } = record;
    return before?.organizations === undefined
      ? rest
      : { ...rest, _id: record._id, organizations: before.organizations };
  }

  /** Drops password hashes from what external callers receive. */
  private protect<T>(result: T, params: DocumentParams | undefined): T {
    if (!params?.provider) return result;
    const strip = (record: unknown) => {
      if (record && typeof record === 'object') delete (record as Partial<StoredDocument>).password;
    };
    if (Array.isArray(result)) result.forEach(strip);
    else if (result && typeof result === 'object' && Array.isArray((result as { data?: unknown }).data)) {
      (result as unknown as { data: unknown[] }).data.forEach(strip);
    } else strip(result);
    return result;
  }
}
