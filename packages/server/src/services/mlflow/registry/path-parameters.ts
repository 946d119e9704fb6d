/**
 * MLflow 3's logged-model and trace endpoints carry ids in the path (`/logged-models/<model_id>/tags/<key>`,
 * `/traces/<trace_id>/tags`),
 * while the dispatcher's tables are keyed by fixed paths. This route, installed just before
 * the dispatcher, rewrites such a path to its template (`/logged-models/{model_id}/tags/{tag_key}`)
 * and leaves the values in `ctx.state`, where `pathParameter` reads them back.
 */
import type { Context, Next } from 'koa';
import { MlflowError } from '../mlflow-errors.js';

const LOGGED_MODEL =
  /^(\/(?:ajax-)?api\/2\.0\/(?:preview\/)?mlflow)\/logged-models\/([^/]+)(\/tags\/([^/]+)|\/tags|\/params|\/artifacts\/directories|\/artifacts\/files)?\/?$/;
/** MLflow 3's trace paths: `/traces/<trace_id>` (its info) and `/traces/<trace_id>/tags`. */
const TRACE = /^(\/(?:ajax-)?api\/[23]\.0\/(?:preview\/)?mlflow)\/traces\/([^/]+)(\/tags)?\/?$/;
/** Endpoints with fixed paths under `/traces/`, never a trace id. */
const TRACE_ENDPOINTS = new Set([
  'search',
  'delete-traces',
  'get',
  'batchGet',
  'batchGetInfos',
  'link-to-run',
  'calculate-filter-correlation',
  'metrics',
]);
const STATE_KEY = 'mlflowPathParameters';

export function pathParametersRoute() {
  return async (ctx: Context, next: Next): Promise<void> => {
    const trace = TRACE.exec(ctx.path);
    if (trace && !TRACE_ENDPOINTS.has(trace[2] ?? '')) {
      const [, prefix = '', traceId = '', tags = ''] = trace;
      ctx.state[STATE_KEY] = { trace_id: traceId };
      ctx.path = `${prefix}/traces/{trace_id}${tags}`;
      return next();
    }
    const match = LOGGED_MODEL.exec(ctx.path);
    if (!match || match[2] === 'search') return next();
    const [, prefix = '', modelId = '', suffix = '', tagKey] = match;
    ctx.state[STATE_KEY] = { model_id: modelId, ...(tagKey === undefined ? {} : { tag_key: tagKey }) };
    ctx.path = `${prefix}/logged-models/{model_id}${tagKey === undefined ? suffix : '/tags/{tag_key}'}`;
    return next();
  };
}

/** A path parameter of the request, decoded. */
export function pathParameter(ctx: Context, name: 'model_id' | 'tag_key' | 'trace_id'): string {
  const raw = (ctx.state[STATE_KEY] as Record<string, string> | undefined)?.[name];
  if (raw === undefined)
    throw new MlflowError('INVALID_PARAMETER_VALUE', `Missing value for required parameter '${name}'.`);
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new MlflowError('INVALID_PARAMETER_VALUE', `'${name}' is not valid percent-encoding`);
  }
}
