/**
 * Console capture in a run: what the process writes reaches the terminal unchanged and the
 * run's console.ndjson too, with its end; uploads send each chunk once; a child process
 * that crashes leaves its stack trace and exit code in its log.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createRun } from '../create-run.js';
import { loadRun } from '../load-run.js';
import { FakeRunsRemote } from '../test-support/fake-runs-remote.js';
import { useTemporaryRunDirectories } from '../test-support/run-directories.js';
import { readConsoleLog } from './console-log-reader.js';

const directories = useTemporaryRunDirectories();
const DIST_INDEX = fileURLToPath(new URL('../../../dist/index.js', import.meta.url));

describe('console capture', () => {
  it('records stdout and stderr writes in the run and passes them on; captureConsole: false records nothing', async () => {
    const run = await createRun({ name: 'console', systemMetrics: false });
    const off = await createRun({ name: 'quiet', systemMetrics: false, captureConsole: false });
    process.stdout.write('larder console test: to stdout\n');
    process.stderr.write(Buffer.from('larder console test: to stderr\n'));
    await off.finish();
    await run.finish({ status: 'Failed' });
    process.stdout.write('after finish, not recorded\n');
    const log = await readConsoleLog(run.local);
    const mine = log.records.filter((record) => record.text.startsWith('larder console test'));
    expect(mine.map((record) => [record.stream, record.text])).toEqual([
      ['stdout', 'larder console test: to stdout'],
      ['stderr', 'larder console test: to stderr'],
    ]);
    expect(log.records.some((record) => record.text.includes('after finish'))).toBe(false);
    expect(log.end).toMatchObject({ status: 'Failed' });
    expect(await readdir(off.local)).not.toContain('console.ndjson');
  });

  it('uploads each chunk once, resuming where the server acknowledged', async () => {
    const remote = new FakeRunsRemote();
    const run = await createRun({ name: 'uploaded', systemMetrics: false });
    process.stdout.write('first line\n');
    await run.upload({ remote });
    process.stdout.write('second line\n');
    await run.finish();
    await run.upload({ remote });
    await run.upload({ remote });
    const [chunks] = [...remote.runLogs.values()];
    const records = [...(chunks?.values() ?? [])].sort((a, b) => a.seq - b.seq).flatMap((chunk) => chunk.records);
    expect(records.map((record) => record.text).filter((text) => text.endsWith(' line'))).toEqual([
      'first line',
      'second line',
    ]);
    const sent = remote.calls.filter((call) => call.method === 'appendRunLogs');
    expect(sent.length).toBe(chunks?.size);
    expect([...(chunks?.values() ?? [])].at(-1)?.end).toMatchObject({ status: 'Complete' });
  });

  it('comes back with a run loaded from a server path, and uploading the copy sends none of it again', async () => {
    const remote = new FakeRunsRemote();
    const run = await createRun({ name: 'printed', systemMetrics: false });
    process.stdout.write('kept on the server\n');
    await run.finish();
    await run.upload({ remote, folder: 'x' });
    await rm(run.local, { recursive: true });
    const loaded = await loadRun('/ada@example.org/x/printed', { remote });
    const log = await readConsoleLog(loaded.local);
    expect(log.records.map((record) => record.text)).toContain('kept on the server');
    expect(log.end).toMatchObject({ status: 'Complete' });
    const sent = remote.callsOf('appendRunLogs').length;
    await loaded.upload({ remote });
    expect(remote.callsOf('appendRunLogs')).toHaveLength(sent);
  });

  it("keeps a crashed child's output, the error that crashed it and its exit code", async () => {
    if (!existsSync(DIST_INDEX)) throw new Error('Build the client first: npx tsc -b packages/client');
    const script = `
      import { createRun } from ${JSON.stringify(DIST_INDEX)};
      const run = await createRun({ name: 'crashing', systemMetrics: false });
      console.log('about to fail', run.local);
      console.error('a warning');
      setTimeout(() => { throw new Error('out of memory, pretend'); }, 10);
    `;
    const output = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, LARDER_RUN_PARENT_DIR: join(directories.root(), 'runs') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.on('data', (data: Buffer) => {
        stdout += data.toString();
      });
      child.on('error', reject);
      child.on('exit', (code) => resolve({ code, stdout }));
    });
    expect(output.code).toBe(1);
    const directory = output.stdout.trim().split(' ').at(-1) as string;
    const log = await readConsoleLog(directory);
    const texts = log.records.map((record) => `${record.stream}:${record.text}`);
    expect(texts.slice(0, 2)).toEqual([`stdout:about to fail ${directory}`, 'stderr:a warning']);
    expect(texts.some((text) => text.startsWith('stderr:Error: out of memory, pretend'))).toBe(true);
    expect(log.end).toMatchObject({ status: 'Interrupted', exitCode: 1 });
  });
});
