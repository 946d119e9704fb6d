/**
 * Authentication: the Feathers authentication service at `/authentication` with the local
 * strategy (email + password → JWT, HS256) and a bearer strategy that accepts both JWTs and
 * Larder API keys. The JWT secret is created once and kept in the metadata store, so that
 * every server instance on the same store signs and verifies alike.
 */
import { randomBytes } from 'node:crypto';
import type { AuthenticationParams, AuthenticationRequest } from '@feathersjs/authentication';
import { AuthenticationService, JWTStrategy } from '@feathersjs/authentication';
import { LocalStrategy } from '@feathersjs/authentication-local';
import type { Params, Query } from '@feathersjs/feathers';
import { eq, LarderError } from '@larder/protocol';
import type { FeathersApp } from '../app/feathers-app.js';
import type { ApiKeysService } from '../services/api-keys/api-keys-service.js';
import { isApiKey } from '../services/api-keys/api-keys-service.js';
import type { DocumentStore } from '../stores/document-store.js';

const SETTINGS_COLLECTION = '_settings';
const API_KEY_CONNECTION_LIFETIME_S = 30 * 24 * 3600;

/** Reads the JWT secret, creating it on first start (safe when several instances race). */
export async function loadJwtSecret(store: DocumentStore): Promise<string> {
  const [existing] = await store.find(SETTINGS_COLLECTION, { filter: eq(['_id'], 'jwt-secret'), limit: 1 });
  if (existing && typeof existing.value === 'string') return existing.value;
  try {
    await store.insert(SETTINGS_COLLECTION, [{ _id: 'jwt-secret', value: randomBytes(48).toString('base64url') }]);
  } catch (error) {
    if (!(error instanceof LarderError && error.name === 'Conflict')) throw error;
  }
  return loadJwtSecret(store);
}

/** JWTs as usual; `lk_…` tokens are API keys looked up by hash. */
class BearerStrategy extends JWTStrategy {
  constructor(private readonly apiKeys: ApiKeysService) {
    super();
  }

  override async authenticate(authentication: AuthenticationRequest, params: AuthenticationParams) {
    const { accessToken } = authentication;
    if (!isApiKey(accessToken)) return super.authenticate(authentication, params);
    const key = await this.apiKeys.lookup(accessToken);
    if (!key || typeof key.userId !== 'string') {
      throw new LarderError('NotAuthenticated', 'This API key is unknown or was revoked');
    }
    let user: unknown;
    try {
      user = await this.getEntity(key.userId, params);
    } catch (error) {
      if (error instanceof LarderError && error.code >= 500) throw error;
      throw new LarderError('NotAuthenticated', 'The owner of this API key no longer exists', { cause: error });
    }
    const exp = Math.floor(Date.now() / 1000) + API_KEY_CONNECTION_LIFETIME_S;
    return {
      accessToken,
      authentication: { strategy: 'jwt', accessToken, payload: { sub: key.userId, exp, apiKey: key._id } },
      user,
    };
  }
}

/** Emails are stored lower-case; sign-in matches them the same way. */
class EmailStrategy extends LocalStrategy {
  override async getEntityQuery(query: Query, params: Params) {
    const email = typeof query.email === 'string' ? query.email.toLowerCase() : query.email;
    return super.getEntityQuery({ ...query, email }, params);
  }
}

export interface AuthenticationSetup {
  secret: string;
  apiKeys: ApiKeysService;
  jwtLifetime?: string;
}

export function createAuthenticationService(app: FeathersApp, setup: AuthenticationSetup): AuthenticationService {
  app.set('authentication', {
    secret: setup.secret,
    entity: 'user',
    service: 'users',
    authStrategies: ['jwt', 'local'],
    jwtOptions: {
      header: { typ: 'access' },
      audience: 'larder',
      issuer: 'larder',
      algorithm: 'HS256',
      expiresIn: setup.jwtLifetime ?? '1d',
    },
    local: { usernameField: 'email', passwordField: 'password' },
  });
  const service = new AuthenticationService(app);
  service.register('jwt', new BearerStrategy(setup.apiKeys));
  service.register('local', new EmailStrategy());
  return service;
}
