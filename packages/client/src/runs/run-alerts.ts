/**
 * `run.alert({ title, text, level })`: a line in the run's `alerts.ndjson`, written at once
 * (local first, like metrics), sent to the server's `/run-alerts` by the next upload, which
 * remembers how many it sent (`alertsSent` in `remote.json`). Each alert carries its own id,
 * so a resend after a network failure notifies nobody twice.
 */
import { appendFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LarderError, newId } from '@larder/protocol';

export const ALERTS_FILE = 'alerts.ndjson';

export type AlertLevel = 'info' | 'warn' | 'error';

export interface RunAlert {
  id: string;
  title: string;
  text: string;
  level: AlertLevel;
  createdAt: string;
}

const LEVELS: readonly AlertLevel[] = ['info', 'warn', 'error'];

/** Checks and writes an alert to the run's directory; answers it. */
export function recordAlert(
  directory: string,
  options: { title: string; text?: string; level?: AlertLevel },
): RunAlert {
  const { title, text = '', level = 'info' } = options ?? ({} as typeof options);
  if (typeof title !== 'string' || title.trim() === '' || title.length > 200) {
    throw new LarderError('BadRequest', 'An alert needs a "title" of 1 to 200 characters');
  }
  if (typeof text !== 'string' || text.length > 4000) {
    throw new LarderError('BadRequest', 'An alert\'s "text" is a string of at most 4000 characters');
  }
  if (!LEVELS.includes(level)) throw new LarderError('BadRequest', `An alert's "level" is one of ${LEVELS.join(', ')}`);
  const alert: RunAlert = { id: newId(), title, text, level, createdAt: new Date().toISOString() };
  appendFileSync(join(directory, ALERTS_FILE), `${JSON.stringify(alert)}\n`);
  return alert;
}

/** The alerts of a run directory, in the order they were raised (none when it has no file). */
export async function readAlerts(directory: string): Promise<RunAlert[]> {
  let text: string;
  try {
    text = await readFile(join(directory, ALERTS_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const alerts: RunAlert[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      alerts.push(JSON.parse(line) as RunAlert);
    } catch {
      // A line cut by a crash mid-write: the alerts before it still go.
      break;
    }
  }
  return alerts;
}
