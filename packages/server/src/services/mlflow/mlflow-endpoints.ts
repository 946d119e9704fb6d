/**
 * The shape every MLflow endpoint of the face shares: a handler gets the caller (already
 * authenticated the Larder way) and the request message (the JSON body, or for GET the query
 * string as MLflow's server reads it), and answers the response message as a plain object.
 * Tables are keyed `"<METHOD> <path under /api/2.0/mlflow>"`, e.g. `"POST /runs/create"`.
 */
import type { Readable } from 'node:stream';
import type { Context } from 'koa';
import type { FeatureContext } from '../../app/feature.js';
import type { Actor, UserRecord } from '../../auth/actor.js';

/** A GET's query string: repeated keys (`run_ids=a&run_ids=b`) arrive as arrays. */
export type MlflowRequest = Record<string, unknown>;

export interface MlflowCall {
  ctx: Context;
  actor: Actor;
  request: MlflowRequest;
  /** Feathers params that make a service call run as this caller (permissions apply). */
  params: { provider: 'rest'; user?: UserRecord };
}

/** The response message, or its JSON text as a stream (long answers, e.g. a metric history). */
export type MlflowHandler = (call: MlflowCall) => Promise<Record<string, unknown> | Readable>;

export type EndpointTable = Record<string, MlflowHandler>;

/** What an endpoint module is given to build its table. */
export type EndpointDeps = FeatureContext;
