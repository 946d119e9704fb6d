/**
 * The caller of a Marcelle download route. Unlike uploads, downloads may be anonymous:
 * an anonymous caller reads only what is public.
 */
import { eq, type Filter } from '@larder/protocol';
import type { Context } from 'koa';
import type { FeatureContext } from '../../app/feature.js';
import { ownershipPolicy } from '../../auth/access-policy.js';
import type { Actor } from '../../auth/actor.js';

export async function downloadCaller(ctx: Context, context: FeatureContext): Promise<Actor> {
  if (!context.authEnabled) return { kind: 'local-owner' };
  if (!ctx.feathers?.authentication) return { kind: 'anonymous' };
  return context.actorFor(ctx);
}

/** Records of an ownership-policy collection the caller may read, anonymous callers included. */
export function downloadReadFilter(actor: Actor): Filter {
  return actor.kind === 'anonymous' ? eq(['public'], true) : ownershipPolicy.readFilter(actor);
}
