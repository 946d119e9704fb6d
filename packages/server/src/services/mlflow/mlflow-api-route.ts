/**
 * The dispatcher of MLflow's REST API: finds the endpoint for `<METHOD> <path>` under any
 * of the prefixes MLflow's clients use, authenticates the caller, reads the request message
 * (JSON body, or the query string for GET) and answers the handler's message as JSON, or an
 * MLflow error. An unknown path under a prefix answers ENDPOINT_NOT_FOUND, as MLflow does.
 */
import { Readable } from 'node:stream';
import type { Context, Next } from 'koa';
import type { FeatureContext } from '../../app/feature.js';
import { readJsonBody } from '../../http/read-json-body.js';
import { mlflowCaller } from './mlflow-caller.js';
import { ANSWERED, type EndpointTable, type MlflowRequest, RAW_BODY_ENDPOINTS } from './mlflow-endpoints.js';
import { MlflowError, toMlflowError } from './mlflow-errors.js';
import { PUBLIC_ENDPOINTS } from './server-info-endpoint.js';

/** Path prefixes of MLflow's REST API; what follows is the endpoint path (`/runs/create`). */
const PREFIXES = [
  '/api/2.0/mlflow',
  '/ajax-api/2.0/mlflow',
  '/api/2.0/preview/mlflow',
  '/ajax-api/2.0/preview/mlflow',
  '/api/3.0/mlflow',
  '/ajax-api/3.0/mlflow',
];
const JSON_LIMIT_BYTES = 64 * 1024 * 1024;

function endpointPath(path: string): string | undefined {
  for (const prefix of PREFIXES) {
    if (path === prefix || path.startsWith(`${prefix}/`)) return path.slice(prefix.length) || '/';
  }
  return undefined;
}

/** MLflow's server reads GET requests from the query string; repeated keys become lists. */
function queryMessage(querystring: string): MlflowRequest {
  const message: MlflowRequest = {};
  for (const [key, value] of new URLSearchParams(querystring)) {
    const existing = message[key];
    if (existing === undefined) message[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else message[key] = [existing, value];
  }
  return message;
}

async function requestMessage(ctx: Context, endpoint: string): Promise<MlflowRequest> {
  if (ctx.method === 'GET' || ctx.method === 'HEAD' || RAW_BODY_ENDPOINTS.has(endpoint)) {
    return queryMessage(ctx.querystring);
  }
  let body: unknown;
  try {
    body = await readJsonBody(ctx, JSON_LIMIT_BYTES);
  } catch (error) {
    throw new MlflowError('MALFORMED_REQUEST', (error as Error).message, { cause: error });
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new MlflowError('MALFORMED_REQUEST', 'The request body must be a JSON object');
  }
  return body as MlflowRequest;
}

export function mlflowApiRoute(context: FeatureContext, endpoints: EndpointTable) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const path = endpointPath(ctx.path);
    if (path === undefined) return next();
    try {
      const handler = Object.hasOwn(endpoints, `${ctx.method} ${path}`)
        ? endpoints[`${ctx.method} ${path}`]
        : undefined;
      if (!handler) {
        throw new MlflowError('ENDPOINT_NOT_FOUND', `No API endpoint ${ctx.method} ${ctx.path}`);
      }
      const caller = PUBLIC_ENDPOINTS.has(`${ctx.method} ${path}`)
        ? { actor: { kind: 'anonymous' } as const, params: { provider: 'rest' } as const }
        : await mlflowCaller(ctx, context);
      const request = await requestMessage(ctx, `${ctx.method} ${path}`);
      const answer = await handler({ ctx, ...caller, request });
      if (answer === ANSWERED) return;
      if (answer instanceof Readable) ctx.type = 'application/json';
      ctx.body = answer;
    } catch (thrown) {
      const error = toMlflowError(thrown);
      if (error.status >= 500)
        context.log(`error: mlflow ${ctx.method} ${ctx.path}: ${(error.cause as Error)?.stack ?? error.message}`);
      ctx.status = error.status;
      ctx.body = error.toJSON();
    }
  };
}
