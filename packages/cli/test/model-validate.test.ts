/** `larder model validate` as a user runs it: the built CLI in a child process on real directories. */
import { existsSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Checkpoint, Model } from '@larder/pmf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from './support/run-cli.js';

const larder = (args: string[]) => runCli(args);

let home: string;
let modelDir: string;

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error('Build first: npm run build (npm test does it)');
  home = await mkdtemp(join(tmpdir(), 'larder-model-cli-'));
  await writeFile(join(home, 'config.yaml'), 'lr: 0.1\n');
  await writeFile(join(home, 'weights.bin'), 'weights');
  const model = new Model({
    producerName: 'cli_tests',
    producerVersionFormat: 'py_pa',
    producerVersion: '1.0',
    name: 'cli',
    id: 'cli-model',
    configuration: join(home, 'config.yaml'),
  });
  model.registerTrainingStart(0);
  model.addCheckpoint(await Checkpoint.fromFile('last', join(home, 'weights.bin'), 0));
  model.registerTrainingEnd(true);
  modelDir = join(home, 'model');
  await model.save(modelDir);
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('larder model validate', () => {
  it('prints an OK line and exits 0 for a valid model', async () => {
    const result = await larder(['model', 'validate', '--strict', modelDir]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(`OK: ${modelDir} is a valid PMF model (checksums verified)\n`);
  });

  it('prints every offence, one per line, and exits non-zero', async () => {
    const metadata = join(modelDir, 'metadata.yaml');
    const original = await readFile(metadata, 'utf8');
    try {
      await writeFile(metadata, original.replace('status: finished', 'status: done').replace('id: cli-model', 'id: 7'));
      const result = await larder(['model', 'validate', modelDir]);
      expect(result.code).not.toBe(0);
      expect(result.stdout.trim().split('\n')).toEqual([
        'metadata.yaml: model.id: must be a string',
        'metadata.yaml: model.training.status: must be one of pending, running, finished, failed',
      ]);
      expect(result.stderr).toBe(`larder: ${modelDir} is not a valid PMF model (2 offences)\n`);
    } finally {
      await writeFile(metadata, original);
    }
  });

  it('checks checksums by default: a checkpoint with a byte appended fails; --fast skips them', async () => {
    const weights = join(modelDir, 'data', 'checkpoints', 'weights.bin');
    await appendFile(weights, '!');
    try {
      const strict = await larder(['model', 'validate', modelDir]);
      expect(strict.code).not.toBe(0);
      expect(strict.stdout).toBe('data/checkpoints/weights.bin: checkpoint "last" does not match its recorded MD5\n');
      const fast = await larder(['model', 'validate', '--fast', modelDir]);
      expect(fast.code).toBe(0);
      expect(fast.stdout).toBe(`OK: ${modelDir} is a valid PMF model (checksums not checked: --fast)\n`);
    } finally {
      await writeFile(weights, 'weights');
    }
  });

  it('explains a directory that does not exist', async () => {
    const result = await larder(['model', 'validate', join(home, 'nowhere')]);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('.: does not exist\n');
    expect(result.stderr).toContain('is not a valid PMF model (1 offence)');
  });
});
