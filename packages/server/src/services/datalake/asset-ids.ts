/**
 * A picture's record id is derived from its owner and its content hash, so the same bytes
 * uploaded twice by one owner land on one asset, even when both uploads race.
 */
import { createHash } from 'node:crypto';
import type { Actor } from '../../auth/actor.js';

export function pictureAssetId(actor: Actor, sha256: string): string {
  const owner = actor.kind === 'user' ? actor.user._id : 'local';
  return `p${createHash('sha256').update(`${owner}:${sha256}`).digest('hex').slice(0, 31)}`;
}
