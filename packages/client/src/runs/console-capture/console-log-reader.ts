/**
 * The read side of `console.ndjson`: chunk lines from a byte position on, in slices, so an
 * upload resumes where the server's acknowledgement stopped and never holds a long log in
 * memory. A last line without its newline is being written (or was cut by a crash) and is
 * left for later; a broken line in the middle (a failed write, written again after it) is
 * skipped; a chunk number seen twice (written again at exit) keeps its first copy.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { CONSOLE_FILE, type ConsoleChunk, type ConsoleEnd, type ConsoleRecord } from './console-log-writer.js';

export interface ConsoleLogSlice {
  chunks: ConsoleChunk[];
  /** Byte position after the last whole line read. */
  end: number;
  /** Whether the slice reached the end of the file. */
  atEnd: boolean;
}

const SLICE_BYTES = 4 * 1024 * 1024;

/** Whole chunk lines from byte `from`, about `sliceBytes` of them (at least one line). */
export async function readConsoleSlice(path: string, from = 0, sliceBytes = SLICE_BYTES): Promise<ConsoleLogSlice> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { chunks: [], end: from, atEnd: true };
    throw error;
  }
  try {
    const size = (await handle.stat()).size;
    const parts: Buffer[] = [];
    let position = from;
    let lastNewline = -1;
    let read = 0;
    // Read on until the slice holds a whole line (one line may exceed the slice size).
    while (position < size && (read < sliceBytes || lastNewline === -1)) {
      const buffer = Buffer.alloc(Math.min(sliceBytes, size - position));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      const newline = buffer.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (newline !== -1) lastNewline = read + newline;
      parts.push(buffer.subarray(0, bytesRead));
      read += bytesRead;
      position += bytesRead;
    }
    if (lastNewline === -1) return { chunks: [], end: from, atEnd: true };
    const text = Buffer.concat(parts)
      .subarray(0, lastNewline + 1)
      .toString('utf8');
    const chunks: ConsoleChunk[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const chunk = JSON.parse(line) as ConsoleChunk;
        if (Number.isInteger(chunk.seq) && Array.isArray(chunk.records)) chunks.push(chunk);
      } catch {
        // A line a failed write cut short; its chunk follows, written again.
      }
    }
    const end = from + lastNewline + 1;
    return { chunks, end, atEnd: position >= size };
  } finally {
    await handle.close();
  }
}

/** A run directory's whole console output, in order, and how the process ended (if it did). */
export async function readConsoleLog(directory: string): Promise<{ records: ConsoleRecord[]; end: ConsoleEnd | null }> {
  const path = join(directory, CONSOLE_FILE);
  const bySeq = new Map<number, ConsoleChunk>();
  let from = 0;
  for (;;) {
    const slice = await readConsoleSlice(path, from);
    for (const chunk of slice.chunks) if (!bySeq.has(chunk.seq)) bySeq.set(chunk.seq, chunk);
    if (slice.end === from || slice.atEnd) break;
    from = slice.end;
  }
  const chunks = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  return { records: chunks.flatMap((chunk) => chunk.records), end: chunks.find((chunk) => chunk.end)?.end ?? null };
}
