/**
 * Automations: `/webhooks` (configuration), `/webhook-deliveries` (the delivery log, read
 * only, each owner's own), `/run-alerts`, and the triggers that turn registry, run and
 * dataset events into signed deliveries retried with back-off.
 */
import type { FeatureContext } from '../../app/feature.js';
import { ownershipPolicy } from '../../auth/access-policy.js';
import { DocumentService } from '../documents/document-service.js';
import { RunAlertsService } from './run-alerts-service.js';
import { DELIVERIES_COLLECTION, WebhookDeliveryQueue } from './webhook-delivery-queue.js';
import { installWebhookTriggers } from './webhook-triggers.js';
import { WebhooksService } from './webhooks-service.js';

export function installWebhooks(context: FeatureContext): void {
  const { app, store, authEnabled, log } = context;
  const queue = new WebhookDeliveryQueue({
    store,
    authEnabled,
    log,
    policyOf: (collection) => (app.services[collection] as { policy?: DocumentService['policy'] } | undefined)?.policy,
    ...(context.webhookRetryBaseMs !== undefined ? { retryBaseMs: context.webhookRetryBaseMs } : {}),
  });
  const enqueue = (occurrence: Parameters<WebhookDeliveryQueue['enqueue']>[0]) => queue.enqueue(occurrence);
  app.use('webhooks', new WebhooksService(store, authEnabled), {
    methods: ['find', 'get', 'create', 'update', 'patch', 'remove'],
  });
  app.use(
    DELIVERIES_COLLECTION,
    new DocumentService({ store, collection: DELIVERIES_COLLECTION, policy: ownershipPolicy, authEnabled }),
    { methods: ['find', 'get'] },
  );
  app.use('run-alerts', new RunAlertsService(store, authEnabled, enqueue), { methods: ['create'], events: [] });
  installWebhookTriggers(app, store, enqueue, log);
  queue.start();
  context.onStop(() => queue.stop());
}
