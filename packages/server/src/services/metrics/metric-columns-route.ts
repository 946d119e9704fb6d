/**
 * `POST /metrics` with the binary columns body (`application/vnd.larder.metric-columns`,
 * see `@larder/protocol`'s metric-columns): read whole (up to a limit), decoded to typed
 * arrays, and handed to the metrics service like a JSON body, so permissions, events and
 * summaries are the same. JSON bodies go on to the service as usual.
 */
import { decodeMetricColumns, LarderError, METRIC_COLUMNS_TYPE } from '@larder/protocol';
import type { Context, Next } from 'koa';
import type { FeathersApp } from '../../app/feathers-app.js';
import type { Actor } from '../../auth/actor.js';
import { assertJsonInput } from '../../http/json-input-limits.js';

export const MAX_COLUMNS_BODY_BYTES = 256 * 1024 * 1024;

export function metricColumnsRoute(app: FeathersApp, actorFor: (ctx: Context) => Promise<Actor>) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.method !== 'POST' || ctx.path !== '/metrics' || !ctx.is(METRIC_COLUMNS_TYPE)) return next();
    const actor = await actorFor(ctx);
    const declared = Number(ctx.get('content-length'));
    if (declared > MAX_COLUMNS_BODY_BYTES) {
      ctx.set('Connection', 'close');
      throw new LarderError(
        'PayloadTooLarge',
        `A metric columns body is limited to ${MAX_COLUMNS_BODY_BYTES} bytes; send several`,
      );
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of ctx.req) {
      size += (chunk as Buffer).length;
      if (size > MAX_COLUMNS_BODY_BYTES) {
        ctx.set('Connection', 'close');
        throw new LarderError(
          'PayloadTooLarge',
          `A metric columns body is limited to ${MAX_COLUMNS_BODY_BYTES} bytes; send several`,
        );
      }
      chunks.push(chunk as Buffer);
    }
    const batch = decodeMetricColumns(Buffer.concat(chunks, size));
    // The header's text meets the same input limits as a JSON body's.
    const names = batch.series.map(({ type, name, offset }) => ({ type, name, offset }));
    assertJsonInput({ run: batch.run, series: names }, 'The metric columns header');
    const params = { provider: 'rest', ...(actor.kind === 'user' ? { user: actor.user } : {}) };
    ctx.status = 201;
    ctx.body = await app.service('metrics').create(batch as never, params as never);
  };
}
