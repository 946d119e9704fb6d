/**
 * Sends a run's console output to the server's `/run-logs`, one request per chunk, from the
 * byte of `console.ndjson` the server last acknowledged (`consoleBytes` in `remote.json`),
 * so an interrupted upload resumes and a repeated one sends nothing. The server keeps each
 * chunk number once, so chunks sent again after a broken connection are not doubled.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunsRemote } from '../runs-remote.js';
import type { UploadRecord } from '../upload-history.js';
import { readConsoleSlice } from './console-log-reader.js';
import { CONSOLE_FILE, type ConsoleChunk } from './console-log-writer.js';

/** What `POST /run-logs` takes: one chunk of a run's console output. */
export interface RunLogsBody extends ConsoleChunk {
  run: string;
}

/** Sends the chunks not yet acknowledged; answers how many were sent. */
export async function uploadConsoleLog(
  directory: string,
  remote: Pick<RunsRemote, 'appendRunLogs'>,
  record: UploadRecord,
  save: () => Promise<void>,
): Promise<number> {
  const path = join(directory, CONSOLE_FILE);
  const size = (await stat(path).catch(() => undefined))?.size;
  if (size === undefined) return 0;
  // A log shorter than what was acknowledged was replaced: send it from the start.
  let from = (record.consoleBytes ?? 0) <= size ? (record.consoleBytes ?? 0) : 0;
  let sent = 0;
  for (;;) {
    const before = from;
    const slice = await readConsoleSlice(path, from);
    for (const chunk of slice.chunks) {
      await remote.appendRunLogs({ run: record.id, ...chunk });
      sent++;
    }
    if (slice.end === before) return sent;
    from = slice.end;
    record.consoleBytes = from;
    await save();
    if (slice.atEnd) return sent;
  }
}
