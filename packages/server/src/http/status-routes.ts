/**
 * Small JSON routes outside the services: `GET /health` (no auth: for load balancers and
 * scripts), `GET /info` (the services that hold records, Marcelle's discovery route) and
 * `GET /whoami` (the caller's account, for the CLI).
 */
import type { Context, Next } from 'koa';
import type { Actor } from '../auth/actor.js';

export interface StatusRoutesOptions {
  /** The services holding records the actor may read. */
  serviceNames: (actor: Actor) => Promise<string[]>;
  authEnabled: boolean;
  actorFor: (ctx: Context) => Promise<Actor>;
}

function withoutPassword(user: Record<string, unknown>): Record<string, unknown> {
  const { password: _password, ...rest } = user;
  return rest;
}

/** `/health`, answered before authentication is even parsed. */
export function healthRoute(health: () => Record<string, unknown>) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.method === 'GET' && ctx.path === '/health') {
      ctx.body = health();
      return;
    }
    return next();
  };
}

/** `/info` and `/whoami`, which need the caller. */
export function accountRoutes(options: StatusRoutesOptions) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.method === 'GET' && ctx.path === '/info') {
      const actor = await options.actorFor(ctx);
      ctx.body = { services: await options.serviceNames(actor) };
      return;
    }
    if (ctx.method === 'GET' && ctx.path === '/whoami') {
      const actor = await options.actorFor(ctx);
      ctx.body = { auth: options.authEnabled, user: actor.kind === 'user' ? withoutPassword(actor.user) : null };
      return;
    }
    return next();
  };
}
