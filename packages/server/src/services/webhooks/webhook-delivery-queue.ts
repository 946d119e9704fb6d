/**
 * Delivering what happened to the webhooks that asked: each occurrence becomes one delivery
 * record per interested webhook (`webhook-deliveries`, readable by the webhook's owner: the
 * delivery log), sent as a signed JSON POST and retried with exponential back-off until the
 * receiver answers 2xx or the attempts run out.
 *
 * - **Who hears of what**: a webhook hears of a record only when its owner may read it, by
 *   the record's own access policy, the same check as a `get`.
 * - **Once**: a delivery's id derives from the webhook and the occurrence's key, so an event
 *   seen by several instances (through Redis) makes one delivery; the insert conflict decides.
 * - **Durable**: pending deliveries live in the store; a restarted server resumes them.
 */
import { createHash } from 'node:crypto';
import { and, eq, type FieldPath, type Filter, LarderError, or } from '@larder/protocol';
import { type AccessPolicy, canRead } from '../../auth/access-policy.js';
import type { Actor, UserRecord } from '../../auth/actor.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { USERS_COLLECTION } from '../users/users-service.js';
import type { WebhookOccurrence, WebhookPayload } from './webhook-events.js';
import { signDelivery } from './webhook-signature.js';
import { WEBHOOKS_COLLECTION } from './webhooks-service.js';

export const DELIVERIES_COLLECTION = 'webhook-deliveries';

export interface DeliveryQueueOptions {
  store: DocumentStore;
  authEnabled: boolean;
  /** The access policy of each collection an occurrence may concern. */
  policyOf: (collection: string) => AccessPolicy | undefined;
  log: (line: string) => void;
  /** The first retry waits this long; each next one twice as long. */
  retryBaseMs?: number;
  maxAttempts?: number;
  timeoutMs?: number;
}

const DEFAULT_RETRY_BASE_MS = 2000;
const DEFAULT_MAX_ATTEMPTS = 6;
const DEFAULT_TIMEOUT_MS = 10_000;
/** A delivery being sent longer than this (a crashed instance) is sent again. */
const LEASE_MS = 60_000;
const RESPONSE_EXCERPT = 500;

function atOrBefore(path: FieldPath, iso: string): Filter {
  return { op: 'lte', path, value: iso };
}

export class WebhookDeliveryQueue {
  private timer: NodeJS.Timeout | undefined;
  private nextRun = Number.POSITIVE_INFINITY;
  private stopped = false;
  private draining: Promise<void> = Promise.resolve();
  private readonly retryBaseMs: number;
  private readonly maxAttempts: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: DeliveryQueueOptions) {
    this.retryBaseMs = options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
    this.maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Resumes deliveries a previous run left pending. */
  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.draining;
  }

  /** Records a delivery for each active webhook that wants this event and may read its record. */
  async enqueue(occurrence: WebhookOccurrence): Promise<void> {
    const { store } = this.options;
    const policy = this.options.policyOf(occurrence.collection);
    if (!policy) return;
    const hooks = await store.find(WEBHOOKS_COLLECTION, {
      filter: and(eq(['active'], true), or(eq(['events'], occurrence.event), eq(['events'], '*'))),
    });
    const now = new Date().toISOString();
    const deliveries: StoredDocument[] = [];
    for (const hook of hooks) {
      if (!canRead(policy, await this.ownerOf(hook), occurrence.record)) continue;
      const id = createHash('sha256').update(`${hook._id}\n${occurrence.key}`).digest('hex').slice(0, 40);
      const payload: WebhookPayload = {
        id,
        event: occurrence.event,
        createdAt: now,
        text: occurrence.text,
        data: occurrence.data,
      };
      deliveries.push({
        _id: id,
        webhookId: hook._id,
        ...(typeof hook.userId === 'string' ? { userId: hook.userId } : {}),
        url: hook.url as string,
        event: occurrence.event,
        payload: payload as unknown as StoredDocument[string],
        status: 'pending',
        attempts: [],
        nextAttemptAt: now,
        createdAt: now,
        updatedAt: now,
      });
    }
    if (deliveries.length === 0) return;
    await store.ensureCollection(DELIVERIES_COLLECTION);
    for (const delivery of deliveries) {
      try {
        await store.insert(DELIVERIES_COLLECTION, [delivery]);
      } catch (error) {
        // Another instance recorded this delivery already.
        if (!(error instanceof LarderError && error.name === 'Conflict')) throw error;
      }
    }
    this.schedule(0);
  }

  private async ownerOf(hook: StoredDocument): Promise<Actor> {
    if (!this.options.authEnabled) return { kind: 'local-owner' };
    if (typeof hook.userId !== 'string') return { kind: 'anonymous' };
    const [user] = await this.options.store.find(USERS_COLLECTION, { filter: eq(['_id'], hook.userId), limit: 1 });
    return user ? { kind: 'user', user: user as unknown as UserRecord } : { kind: 'anonymous' };
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    const at = Date.now() + Math.max(0, delayMs);
    if (at >= this.nextRun) return;
    if (this.timer) clearTimeout(this.timer);
    this.nextRun = at;
    this.timer = setTimeout(() => {
      this.nextRun = Number.POSITIVE_INFINITY;
      this.draining = this.draining
        .then(() => this.sendDue())
        .catch((error) => {
          this.options.log(`error: webhook deliveries: ${(error as Error)?.stack ?? error}`);
          this.schedule(this.retryBaseMs);
        });
    }, delayMs);
    this.timer.unref();
  }

  /** Sends every delivery that is due, then sleeps until the next one is. */
  private async sendDue(): Promise<void> {
    const { store } = this.options;
    const collections = await store.listCollections();
    if (!collections.includes(DELIVERIES_COLLECTION)) return;
    for (;;) {
      if (this.stopped) return;
      const now = new Date();
      const leaseEnd = new Date(now.getTime() + LEASE_MS).toISOString();
      const due = or(
        and(eq(['status'], 'pending'), atOrBefore(['nextAttemptAt'], now.toISOString())),
        and(eq(['status'], 'sending'), atOrBefore(['leaseUntil'], now.toISOString())),
      );
      const [candidate] = await store.find(DELIVERIES_COLLECTION, { filter: due, limit: 1 });
      if (!candidate) break;
      // Claim it: only the instance whose modify still finds it due sends it.
      const [claimed] = await store.modify(DELIVERIES_COLLECTION, and(eq(['_id'], candidate._id), due), (record) => ({
        ...record,
        status: 'sending',
        leaseUntil: leaseEnd,
      }));
      if (claimed) await this.send(claimed.after);
    }
    const [next] = await store.find(DELIVERIES_COLLECTION, {
      filter: eq(['status'], 'pending'),
      sort: [{ path: ['nextAttemptAt'], direction: 1 }],
      limit: 1,
    });
    if (next) this.schedule(Date.parse(String(next.nextAttemptAt)) - Date.now());
  }

  private async send(delivery: StoredDocument): Promise<void> {
    const [hook] = await this.options.store.find(WEBHOOKS_COLLECTION, {
      filter: eq(['_id'], String(delivery.webhookId)),
      limit: 1,
    });
    const attempts = Array.isArray(delivery.attempts) ? [...delivery.attempts] : [];
    const started = new Date();
    let outcome: { status?: number; error?: string; body?: string };
    const active = hook?.active === true;
    if (!hook || !active) outcome = { error: 'The webhook was removed or switched off' };
    else outcome = await this.post(String(hook.url), String(hook.secret ?? ''), delivery);
    attempts.push({
      at: started.toISOString(),
      ms: Date.now() - started.getTime(),
      ...(outcome.status !== undefined ? { status: outcome.status } : {}),
      ...(outcome.error !== undefined ? { error: outcome.error } : {}),
      ...(outcome.body !== undefined ? { response: outcome.body } : {}),
    });
    const delivered = outcome.status !== undefined && outcome.status >= 200 && outcome.status < 300;
    const gaveUp = !delivered && (attempts.length >= this.maxAttempts || !active);
    const retryInMs = this.retryBaseMs * 2 ** (attempts.length - 1);
    const now = new Date().toISOString();
    await this.options.store.modify(DELIVERIES_COLLECTION, eq(['_id'], delivery._id), (record) => {
      const { leaseUntil: _lease, ...rest } = record;
      return {
        ...rest,
        attempts,
        status: delivered ? 'delivered' : gaveUp ? 'failed' : 'pending',
        nextAttemptAt: delivered || gaveUp ? null : new Date(Date.now() + retryInMs).toISOString(),
        ...(delivered ? { deliveredAt: now } : {}),
        updatedAt: now,
      };
    });
  }

  private async post(url: string, secret: string, delivery: StoredDocument) {
    const body = JSON.stringify(delivery.payload);
    const timestamp = String(Math.floor(Date.now() / 1000));
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Larder-Webhooks/1',
          'x-larder-event': String(delivery.event),
          'x-larder-delivery': delivery._id,
          'x-larder-timestamp': timestamp,
          'x-larder-signature': signDelivery(secret, timestamp, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = (await response.text().catch(() => '')).slice(0, RESPONSE_EXCERPT);
      return { status: response.status, body: text };
    } catch (error) {
      return { error: String((error as Error)?.message ?? error).slice(0, RESPONSE_EXCERPT) };
    }
  }
}
