/**
 * User accounts (`/users`): email, bcrypt-hashed password, role. Password hashes never leave
 * the server and cannot be queried (hidden fields of the document service). E-mails are
 * unique case-insensitively on every write, through a key record per address claimed before
 * the account is written (`_user_emails`, an insert conflict, so two instances racing cannot
 * both win). Changing one's own e-mail or password asks for the current password; admins
 * change any account without it. Only admins grant roles.
 */
import { and, eq, LarderError, not } from '@larder/protocol';
import bcrypt from 'bcryptjs';
import { notAuthenticated } from '../../auth/access-policy.js';
import { type Actor, isAllPowerful } from '../../auth/actor.js';
import { selfPolicy } from '../../auth/self-policy.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { type DocumentParams, DocumentService } from '../documents/document-service.js';

export const USERS_COLLECTION = '_users';
const EMAIL_KEYS_COLLECTION = '_user_emails';
const BCRYPT_ROUNDS = 10;
const EMAIL = /^[^@\s]{1,128}@[^@\s]{1,255}$/;
const MIN_PASSWORD = 8;
const MAX_PASSWORD = 1024;

type Id = string | number | null;
type Account = Record<string, unknown>;

export class UsersService extends DocumentService {
  constructor(store: DocumentStore, options: { authEnabled: boolean; openSignup: boolean }) {
    super({
      store,
      collection: USERS_COLLECTION,
      policy: selfPolicy(options.openSignup),
      authEnabled: options.authEnabled,
      hiddenFields: ['password'],
    });
  }

  override async create(data: unknown, params?: DocumentParams) {
    if (Array.isArray(data)) throw new LarderError('BadRequest', 'Create one user at a time');
    // Who may create accounts is decided before anything about the address is looked at.
    const actor = this.caller(params);
    if (!this.policy.canCreate(actor)) {
      if (actor.kind === 'anonymous') throw notAuthenticated();
      throw new LarderError(
        'Forbidden',
        'You may not create records in _users: only an admin creates accounts on this server',
      );
    }
    const user = await this.prepareAccount(data, params, true);
    const email = user.email as string;
    await this.claimEmail(email, undefined);
    try {
      return await super.create(user, params);
    } catch (error) {
      await this.releaseEmail(email);
      throw error;
    }
  }

  override async update(id: Id, data: unknown, params?: DocumentParams) {
    if (id === null) throw new LarderError('BadRequest', 'update replaces one account: give its id');
    const account = await this.prepareAccount(data, params, true);
    return this.withEmailChange(id, account, params, () => super.update(id, account, params));
  }

  override async patch(id: Id, data: unknown, params?: DocumentParams) {
    const account = await this.prepareAccount(data, params, false);
    if (id === null) {
      if (account.email !== undefined || account.password !== undefined) {
        throw new LarderError('BadRequest', "Change one account's e-mail or password at a time: give its id");
      }
      return super.patch(id, account, params);
    }
    return this.withEmailChange(id, account, params, () => super.patch(id, account, params) as Promise<StoredDocument>);
  }

  /**
   * A write that may change an account's e-mail or password: the caller proves they know the
   * current password (unless an admin), the new address is claimed first and the old one
   * released once the account no longer holds it.
   */
  private async withEmailChange(
    id: string | number,
    account: Account,
    params: DocumentParams | undefined,
    write: () => Promise<StoredDocument>,
  ): Promise<StoredDocument> {
    const [before] = await this.store.find(this.collection, {
      filter: and(eq(['_id'], String(id)), this.policy.writeFilter(this.caller(params))),
      limit: 1,
    });
    if (!before) return write(); // the document service answers NotFound or Forbidden
    const changesEmail = account.email !== undefined && account.email !== before.email;
    const changesPassword = account.password !== undefined;
    if (changesEmail || changesPassword) await this.assertCurrentPassword(before, account, this.caller(params));
    delete account.currentPassword;
    if (!changesEmail) return write();
    const email = account.email as string;
    await this.claimEmail(email, before._id);
    let changed: StoredDocument;
    try {
      changed = await write();
    } catch (error) {
      await this.releaseEmail(email);
      throw error;
    }
    if (typeof before.email === 'string') await this.releaseEmail(before.email);
    return changed;
  }

  private async assertCurrentPassword(before: StoredDocument, account: Account, actor: Actor): Promise<void> {
    if (isAllPowerful(actor)) return;
    const current = account.currentPassword;
    const hash = before.password;
    const known =
      typeof current === 'string' &&
      current.length <= MAX_PASSWORD &&
      typeof hash === 'string' &&
      (await bcrypt.compare(current, hash));
    if (!known) {
      throw new LarderError(
        'BadRequest',
        'To change your e-mail or password, send your current password as "currentPassword"',
      );
    }
  }

  /** Claims an address for an account; Conflict when another account has it. */
  private async claimEmail(email: string, userId: string | undefined): Promise<void> {
    const taken = () => new LarderError('Conflict', `Another account already uses the e-mail ${email}`);
    // Accounts made before the key records existed are found by their field.
    const others = userId === undefined ? eq(['email'], email) : and(eq(['email'], email), not(eq(['_id'], userId)));
    if ((await this.store.count(this.collection, others)) > 0) throw taken();
    await this.store.ensureCollection(EMAIL_KEYS_COLLECTION);
    try {
      await this.store.insert(EMAIL_KEYS_COLLECTION, [{ _id: email, userId: userId ?? null }]);
    } catch (error) {
      if (!(error instanceof LarderError && error.name === 'Conflict')) throw error;
      const [key] = await this.store.find(EMAIL_KEYS_COLLECTION, { filter: eq(['_id'], email), limit: 1 });
      const holder = key?.userId;
      // A key left by a crash between claim and write, or held by an account that no longer has the address.
      const stillHeld =
        typeof holder !== 'string' ||
        (await this.store.count(this.collection, and(eq(['_id'], holder), eq(['email'], email)))) > 0;
      if (holder !== userId && stillHeld) throw taken();
      await this.store.remove(EMAIL_KEYS_COLLECTION, eq(['_id'], email));
      await this.store.insert(EMAIL_KEYS_COLLECTION, [{ _id: email, userId: userId ?? null }]);
    }
  }

  private async releaseEmail(email: string): Promise<void> {
    await this.store.remove(EMAIL_KEYS_COLLECTION, eq(['_id'], email));
  }

  override async remove(id: Id, params?: DocumentParams) {
    const removed = await super.remove(id, params);
    for (const account of Array.isArray(removed) ? removed : [removed]) {
      const email = (account as StoredDocument).email;
      if (typeof email === 'string') await this.releaseEmail(email);
    }
    return removed;
  }

  /** Validates account fields and hashes a new password. */
  private async prepareAccount(data: unknown, params: DocumentParams | undefined, whole: boolean): Promise<Account> {
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw new LarderError('BadRequest', 'The user must be a JSON object');
    }
    const account: Account = { ...(data as Account) };
    if (whole || account.email !== undefined) {
      if (typeof account.email !== 'string' || !EMAIL.test(account.email)) {
        throw new LarderError('BadRequest', 'A user needs a valid "email"');
      }
      account.email = account.email.toLowerCase();
    }
    if (whole || account.password !== undefined) {
      if (
        typeof account.password !== 'string' ||
        account.password.length < MIN_PASSWORD ||
        account.password.length > MAX_PASSWORD
      ) {
        throw new LarderError(
          'BadRequest',
          `A password must be a string of ${MIN_PASSWORD} to ${MAX_PASSWORD} characters`,
        );
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
    const { organizations: _dropped, currentPassword: _proof, ...rest } = record;
    return before?.organizations === undefined
      ? rest
      : { ...rest, _id: record._id, organizations: before.organizations };
  }
}
