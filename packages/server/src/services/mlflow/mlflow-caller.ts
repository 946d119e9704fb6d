/**
 * Who calls the MLflow face. MLflow's client sends `MLFLOW_TRACKING_TOKEN` as a bearer token
 * (a Larder API key or JWT, parsed like every other route) or `MLFLOW_TRACKING_USERNAME` and
 * `_PASSWORD` as HTTP Basic (e-mail and password, or an API key as the password).
 */
import type { Context } from 'koa';
import type { FeatureContext } from '../../app/feature.js';
import type { Actor } from '../../auth/actor.js';
import type { MlflowCall } from './mlflow-endpoints.js';

export async function mlflowCaller(
  ctx: Context,
  context: FeatureContext,
): Promise<Pick<MlflowCall, 'actor' | 'params'>> {
  const actor: Actor = await context.actorFor(ctx);
  return { actor, params: actor.kind === 'user' ? { provider: 'rest', user: actor.user } : { provider: 'rest' } };
}
