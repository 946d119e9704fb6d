/**
 * `/run-alerts`: `run.alert({ title, text, level })` from a training script. Whoever may log
 * to the run may raise an alert on it; it goes to the webhooks that asked for `run.alert`
 * and may read the run, as Slack-compatible JSON (`text`), and is not stored otherwise.
 */
import { and, eq, LarderError, newId } from '@larder/protocol';
import { actorOf } from '../../auth/actor.js';
import { folderPolicy } from '../../auth/folder-policy.js';
import type { DocumentStore } from '../../stores/document-store.js';
import type { DocumentParams } from '../documents/document-service.js';
import { RUNS_COLLECTION } from '../runs/runs-service.js';
import type { WebhookOccurrence } from './webhook-events.js';

const LEVELS = ['info', 'warn', 'error'] as const;

function text(value: unknown, what: string, max: number, required: boolean): string {
  if (value === undefined && !required) return '';
  if (typeof value !== 'string' || value.length > max || (required && value.trim() === '')) {
    throw new LarderError('BadRequest', `${what} is a string of at most ${max} characters`);
  }
  return value;
}

export class RunAlertsService {
  constructor(
    private readonly store: DocumentStore,
    private readonly authEnabled: boolean,
    private readonly enqueue: (occurrence: WebhookOccurrence) => Promise<void>,
  ) {}

  async create(data: unknown, params?: DocumentParams) {
    const actor = actorOf(params ?? {}, this.authEnabled);
    if (actor.kind === 'anonymous') throw new LarderError('NotAuthenticated', 'Sign in to raise alerts');
    const body = (data ?? {}) as Record<string, unknown>;
    if (typeof body.run !== 'string') throw new LarderError('BadRequest', '"run" is the id of the run');
    const title = text(body.title, '"title"', 200, true);
    const message = text(body.text, '"text"', 4000, false);
    const level = body.level ?? 'info';
    if (!(LEVELS as readonly unknown[]).includes(level)) {
      throw new LarderError('BadRequest', `"level" is one of ${LEVELS.join(', ')}`);
    }
    const [run] = await this.store.find(RUNS_COLLECTION, {
      filter: and(eq(['_id'], body.run), folderPolicy.readFilter(actor)),
      limit: 1,
    });
    if (!run) throw new LarderError('NotFound', `No run ${body.run} that you may see`);
    const writable = await this.store.count(
      RUNS_COLLECTION,
      and(eq(['_id'], run._id), folderPolicy.writeFilter(actor)),
    );
    if (!writable) throw new LarderError('Forbidden', `You may read but not raise alerts on run ${run._id}`);
    // The SDK names each alert, so a resend after a network failure notifies nobody twice.
    if (body.id !== undefined && (typeof body.id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(body.id))) {
      throw new LarderError('BadRequest', '"id" is 1 to 64 letters, digits, "_" or "-"');
    }
    const id = typeof body.id === 'string' ? body.id : newId();
    const createdAt = new Date().toISOString();
    const alert = { _id: id, run: run._id, title, text: message, level: level as string, createdAt };
    await this.enqueue({
      event: 'run.alert',
      key: `alert:${run._id}:${id}`,
      collection: RUNS_COLLECTION,
      record: run,
      data: { ...alert, runName: run.name, folder: run.folder },
      text: `[${String(level).toUpperCase()}] ${String(run.name)}: ${title}${message ? `\n${message}` : ''}`,
    });
    return alert;
  }
}
