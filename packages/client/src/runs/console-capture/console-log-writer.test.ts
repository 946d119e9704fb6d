import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readConsoleLog, readConsoleSlice } from './console-log-reader.js';
import { CONSOLE_FILE, type ConsoleChunk, ConsoleLogWriter, MAX_RECORD_TEXT } from './console-log-writer.js';

let directory = '';
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'larder-console-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

const texts = async () => (await readConsoleLog(directory)).records.map((record) => `${record.stream}:${record.text}`);

describe('ConsoleLogWriter', () => {
  it('cuts writes into lines per stream, keeps what a terminal shows of carriage returns, and ends the log', async () => {
    const writer = await ConsoleLogWriter.create(join(directory, CONSOLE_FILE), { flushIntervalMs: 60_000 });
    writer.add('stdout', 'epoch 1 ', 1000);
    writer.add('stderr', 'warn: slow\n', 1001);
    writer.add('stdout', 'loss 0.5\nepoch 2', 1002);
    writer.add('stdout', '\r 10%\r 50%\r100%\n', 1003);
    // Bytes split inside a character are decoded once whole.
    const bytes = Buffer.from('température\n');
    writer.add('stdout', bytes.subarray(0, 6), 1004);
    writer.add('stdout', bytes.subarray(6), 1005);
    writer.add('stderr', 'no newline at the end');
    await writer.close({ status: 'Failed', exitCode: 2, time: 2000 });
    expect(await texts()).toEqual([
      'stderr:warn: slow',
      'stdout:epoch 1 loss 0.5',
      'stdout:100%',
      'stdout:température',
      'stderr:no newline at the end',
    ]);
    const log = await readConsoleLog(directory);
    expect(log.end).toEqual({ status: 'Failed', exitCode: 2, time: 2000 });
    expect(log.records[0]).toEqual({ time: 1001, stream: 'stderr', text: 'warn: slow' });
  });

  it('writes a line left unfinished for a whole interval as it stands', async () => {
    const writer = await ConsoleLogWriter.create(join(directory, CONSOLE_FILE), { flushIntervalMs: 60_000 });
    writer.add('stdout', 'downloading… 42%');
    await writer.flush();
    expect(await texts()).toEqual(['stdout:downloading… 42%']);
    await writer.close({ status: 'Complete', exitCode: null, time: 1 });
  });

  it('loses nothing of a flood of output: bounded chunks, every line in order', async () => {
    const writer = await ConsoleLogWriter.create(join(directory, CONSOLE_FILE), { flushIntervalMs: 60_000 });
    const lines = 200_000;
    for (let index = 0; index < lines; index++) writer.add('stdout', `line ${index} ${'x'.repeat(40)}\n`);
    // One line longer than a record holds is kept whole, across records.
    writer.add('stderr', `${'y'.repeat(MAX_RECORD_TEXT * 2 + 5)}\n`);
    await writer.close({ status: 'Complete', exitCode: 0, time: 1 });
    const { records } = await readConsoleLog(directory);
    const stdout = records.filter((record) => record.stream === 'stdout');
    expect(stdout).toHaveLength(lines);
    expect(stdout.every((record, index) => record.text.startsWith(`line ${index} `))).toBe(true);
    const long = records.filter((record) => record.stream === 'stderr');
    expect(long.map((record) => record.text.length)).toEqual([MAX_RECORD_TEXT, MAX_RECORD_TEXT, 5]);
    const chunks = (await readFile(join(directory, CONSOLE_FILE), 'utf8')).trim().split('\n');
    expect(chunks.length).toBeGreaterThan(20);
    for (const line of chunks) expect(Buffer.byteLength(line)).toBeLessThan(600 * 1024);
    expect(chunks.map((line) => (JSON.parse(line) as ConsoleChunk).seq)).toEqual(chunks.map((_, index) => index));
  });

  it('is read in slices from a byte position, skipping a broken line and a chunk written twice, leaving an unfinished one', async () => {
    const path = join(directory, CONSOLE_FILE);
    const chunk = (seq: number, text: string) =>
      `${JSON.stringify({ seq, records: [{ time: seq, stream: 'stdout', text }] })}\n`;
    await appendFile(
      path,
      `${chunk(0, 'a')}{"seq":1,"reco\n${chunk(1, 'b')}${chunk(1, 'b')}${chunk(2, 'c').slice(0, 10)}`,
    );
    const first = await readConsoleSlice(path, 0, 16);
    expect(first.chunks.map((each) => each.seq)).toEqual([0]);
    expect(first.atEnd).toBe(false);
    const rest = await readConsoleSlice(path, first.end);
    expect(rest.chunks.map((each) => each.seq)).toEqual([1, 1]);
    expect(rest.atEnd).toBe(true);
    expect(await texts()).toEqual(['stdout:a', 'stdout:b']);
  });
});
