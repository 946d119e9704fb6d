/**
 * Who calls the MLflow face. MLflow's client sends `MLFLOW_TRACKING_TOKEN` as a bearer token
 * (a Larder API key or JWT, parsed like every other route) or `MLFLOW_TRACKING_USERNAME` and
 * `_PASSWORD` as HTTP Basic: an e-mail and password signed in through Larder's local
 * strategy (with its sign-in throttle), or an API key as the password. Nobody at all is
 * UNAUTHENTICATED. Password sign-ins are remembered for a minute, by a hash of the header,
 * since the client sends them with every call and bcrypt is slow on purpose.
 */
import { createHash } from 'node:crypto';
import type { AuthenticationService } from '@feathersjs/authentication';
import type { Context } from 'koa';
import type { FeatureContext } from '../../app/feature.js';
import type { Actor, UserRecord } from '../../auth/actor.js';
import { isApiKey } from '../api-keys/api-keys-service.js';
import type { MlflowCall } from './mlflow-endpoints.js';
import { MlflowError } from './mlflow-errors.js';

const REMEMBER_MS = 60_000;
const MAX_REMEMBERED = 1000;
const remembered = new Map<string, { user: UserRecord; until: number }>();

function unauthenticated(message: string): MlflowError {
  return new MlflowError('UNAUTHENTICATED', message);
}

function basicCredentials(header: string): { username: string; password: string } {
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const cut = decoded.indexOf(':');
  if (cut < 0) throw unauthenticated('HTTP Basic credentials must be "<e-mail>:<password>" in base64');
  return { username: decoded.slice(0, cut), password: decoded.slice(cut + 1) };
}

async function basicUser(ctx: Context, context: FeatureContext, header: string): Promise<UserRecord> {
  const key = createHash('sha256').update(header).digest('hex');
  const known = remembered.get(key);
  if (known && known.until > Date.now()) return known.user;
  remembered.delete(key);
  const { username, password } = basicCredentials(header);
  const authentication = context.app.service('authentication') as unknown as AuthenticationService;
  let user: UserRecord;
  if (isApiKey(password)) {
    const result = await authentication.authenticate(
      { strategy: 'jwt', accessToken: password },
      { provider: 'rest' },
      'jwt',
    );
    user = result.user as UserRecord;
  } else {
    // Through the service, so the sign-in throttle's hook counts failures by address.
    const result = (await context.app
      .service('authentication')
      .create({ strategy: 'local', email: username, password }, { provider: 'rest', ip: ctx.ip } as never)) as {
      user: UserRecord;
    };
    user = result.user;
  }
  if (remembered.size >= MAX_REMEMBERED) remembered.delete(remembered.keys().next().value as string);
  remembered.set(key, { user, until: Date.now() + REMEMBER_MS });
  return user;
}

export async function mlflowCaller(
  ctx: Context,
  context: FeatureContext,
): Promise<Pick<MlflowCall, 'actor' | 'params'>> {
  const header = ctx.get('authorization');
  let actor: Actor;
  if (context.authEnabled && /^basic /i.test(header))
    actor = { kind: 'user', user: await basicUser(ctx, context, header) };
  else {
    try {
      actor = await context.actorFor(ctx);
    } catch (error) {
      if ((error as { name?: string }).name === 'NotAuthenticated' && !header) {
        throw unauthenticated(
          'Sign in: set MLFLOW_TRACKING_TOKEN to a Larder API key, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD',
        );
      }
      throw error;
    }
  }
  if (actor.kind === 'anonymous') throw unauthenticated('Sign in to use the MLflow API');
  return { actor, params: actor.kind === 'user' ? { provider: 'rest', user: actor.user } : { provider: 'rest' } };
}
