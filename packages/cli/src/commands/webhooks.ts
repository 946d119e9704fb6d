/**
 * `larder webhooks add|ls|rm|deliveries`: where Larder tells other systems what happened
 * (model versions, alias moves, finished or failed runs, published dataset versions, run
 * alerts), with the signing secret shown once and the delivery log of each webhook.
 */
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { formatTable } from '../terminal/table.js';
import { connect } from './connection.js';

interface Webhook {
  _id: string;
  url: string;
  events: string[];
  active: boolean;
  description?: string;
  secret?: string;
}

interface Delivery {
  _id: string;
  event: string;
  status: string;
  createdAt: string;
  attempts: { status?: number; error?: string }[];
}

/** The one webhook whose id starts with `prefix`. */
async function webhookByPrefix(items: AsyncIterable<Webhook>, prefix: string): Promise<Webhook> {
  const matches: Webhook[] = [];
  for await (const hook of items) if (hook._id.startsWith(prefix)) matches.push(hook);
  if (matches.length === 0) throw new CliError(`No webhook of yours has an id starting with "${prefix}"`);
  if (matches.length > 1) throw new CliError(`"${prefix}" matches ${matches.length} webhooks: give more characters`);
  return matches[0] as Webhook;
}

export function registerWebhooks(program: Command): void {
  const webhooks = program.command('webhooks').description('notify other systems of registry, run and dataset events');

  webhooks
    .command('add <url>')
    .description('add a webhook (the signing secret is shown once)')
    .option(
      '--events <list>',
      'comma-separated: model.version.created, model.alias.set, run.finished, run.failed, dataset.version.published, run.alert, or *',
      '*',
    )
    .option('--description <text>', 'what it is for')
    .action(async (url: string, options: { events: string; description?: string }) => {
      const { store } = await connect(program);
      try {
        const events = options.events
          .split(',')
          .map((each) => each.trim())
          .filter(Boolean);
        const hook = (await store.service<Webhook>('webhooks').create({
          url,
          events,
          ...(options.description ? { description: options.description } : {}),
        })) as Webhook;
        console.log(hook.secret);
        console.error(
          `Added webhook ${hook._id.slice(0, 12)} for ${hook.events.join(', ')} → ${hook.url}. ` +
            'The secret above signs every delivery (X-Larder-Signature); it will not be shown again.',
        );
      } finally {
        await store.close();
      }
    });

  webhooks
    .command('ls')
    .description('list your webhooks')
    .action(async () => {
      const { store } = await connect(program);
      try {
        const rows: string[][] = [];
        for await (const hook of store.service<Webhook>('webhooks').items()) {
          rows.push([hook._id.slice(0, 12), hook.active ? 'on' : 'off', hook.events.join(','), hook.url]);
        }
        console.log(
          rows.length === 0
            ? 'No webhooks.'
            : formatTable(['ID', 'ACTIVE', 'EVENTS', 'URL'], rows, process.stdout.columns),
        );
      } finally {
        await store.close();
      }
    });

  webhooks
    .command('rm <id>')
    .description('remove a webhook by its id (the first 12 characters are enough)')
    .action(async (id: string) => {
      const { store } = await connect(program);
      try {
        const service = store.service<Webhook>('webhooks');
        const hook = await webhookByPrefix(service.items(), id);
        await service.remove(hook._id);
        console.log(`Removed webhook ${hook._id.slice(0, 12)} (${hook.url}).`);
      } finally {
        await store.close();
      }
    });

  webhooks
    .command('deliveries <id>')
    .description("a webhook's delivery log: each event, its status and its attempts")
    .action(async (id: string) => {
      const { store } = await connect(program);
      try {
        const hook = await webhookByPrefix(store.service<Webhook>('webhooks').items(), id);
        const rows: string[][] = [];
        const deliveries = store
          .service<Delivery>('webhook-deliveries')
          .items({ webhookId: hook._id, $sort: { createdAt: -1 } });
        for await (const delivery of deliveries) {
          const attempts = delivery.attempts.map((attempt) => attempt.status ?? 'error').join(' ');
          rows.push([delivery.createdAt, delivery.event, delivery.status, attempts]);
          if (rows.length >= 100) break;
        }
        console.log(
          rows.length === 0
            ? `No deliveries for ${hook.url} yet.`
            : formatTable(['WHEN', 'EVENT', 'STATUS', 'ATTEMPTS'], rows, process.stdout.columns),
        );
      } finally {
        await store.close();
      }
    });
}
