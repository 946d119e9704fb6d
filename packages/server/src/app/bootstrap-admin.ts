/**
 * First start with auth on: when no user exists, create an admin with a random password and
 * an API key for them. The caller (the CLI) saves them where the CLI and SDK find them.
 */
import { randomBytes } from 'node:crypto';
import { LarderError, MATCH_ALL } from '@larder/protocol';
import type { ApiKeysService } from '../services/api-keys/api-keys-service.js';
import { USERS_COLLECTION, type UsersService } from '../services/users/users-service.js';
import type { DocumentStore } from '../stores/document-store.js';

export interface AdminCredentials {
  email: string;
  password: string;
  token: string;
}

export const BOOTSTRAP_ADMIN_EMAIL = 'admin@localhost';

export async function bootstrapAdmin(
  store: DocumentStore,
  users: UsersService,
  apiKeys: ApiKeysService,
): Promise<AdminCredentials | undefined> {
  if ((await store.count(USERS_COLLECTION, MATCH_ALL)) > 0) return undefined;
  const password = randomBytes(18).toString('base64url');
  let admin: { _id: string };
  try {
    admin = (await users.create({ email: BOOTSTRAP_ADMIN_EMAIL, password, role: 'admin' })) as { _id: string };
  } catch (error) {
    // Another instance on the same store got there first.
    if (error instanceof LarderError && error.name === 'Conflict') return undefined;
    throw error;
  }
  const key = await apiKeys.create({ name: 'created at first start', userId: admin._id });
  return { email: BOOTSTRAP_ADMIN_EMAIL, password, token: String(key.token) };
}
