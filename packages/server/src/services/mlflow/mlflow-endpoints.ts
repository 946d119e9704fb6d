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

/** What a handler answers when it has written the response itself (a file download). */
export const ANSWERED: unique symbol = Symbol('answered');

/**
 * The response message, its JSON text as a stream (long answers, e.g. a metric history), or
 * {@link ANSWERED} when the handler set the response (status, headers, body) itself.
 */
export type MlflowHandler = (call: MlflowCall) => Promise<Record<string, unknown> | Readable | typeof ANSWERED>;

/**
 * Endpoints whose body is not a JSON message but raw bytes the handler reads (the UI's
 * `upload-artifact`): their message is the query string, for every method.
 */
export const RAW_BODY_ENDPOINTS: ReadonlySet<string> = new Set(['POST /upload-artifact']);

export type EndpointTable = Record<string, MlflowHandler>;

/** What an endpoint module is given to build its table. */
export type EndpointDeps = FeatureContext;
