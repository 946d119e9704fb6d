/**
 * The events webhooks can subscribe to, and the payload every delivery carries: Larder's
 * fields (`event`, `data`) plus Slack's `text`, so a Slack-compatible incoming webhook shows
 * a readable line without any adapter.
 */
import { LarderError } from '@larder/protocol';

export const WEBHOOK_EVENTS = [
  'model.version.created',
  'model.alias.set',
  'run.finished',
  'run.failed',
  'dataset.version.published',
  'run.alert',
] as const;

export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** A happening that webhooks may hear about: what it is, the record it concerns, and its text. */
export interface WebhookOccurrence {
  event: WebhookEvent;
  /** Unique per occurrence: a webhook receives each key once, however many instances saw it. */
  key: string;
  /** The record whose read permission decides who hears of it. */
  record: Record<string, unknown>;
  /** The collection of that record, for the permission check. */
  collection: string;
  data: Record<string, unknown>;
  text: string;
}

export interface WebhookPayload {
  id: string;
  event: WebhookEvent;
  createdAt: string;
  text: string;
  data: Record<string, unknown>;
}

/** Checks a webhook's `events` list: known names, or `["*"]` for all of them. */
export function parseEvents(value: unknown): string[] {
  if (value === undefined) return ['*'];
  if (!Array.isArray(value) || value.length === 0 || value.length > WEBHOOK_EVENTS.length + 1) {
    throw new LarderError('BadRequest', `"events" is a list of: *, ${WEBHOOK_EVENTS.join(', ')}`);
  }
  for (const event of value) {
    if (event !== '*' && !(WEBHOOK_EVENTS as readonly unknown[]).includes(event)) {
      throw new LarderError(
        'BadRequest',
        `Unknown webhook event ${JSON.stringify(event).slice(0, 60)}; choose from *, ${WEBHOOK_EVENTS.join(', ')}`,
      );
    }
  }
  return [...new Set(value as string[])];
}
