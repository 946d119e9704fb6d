import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ArtifactCreateBody } from '../runs/runs-remote.js';
import { FakeRunsRemote } from '../runs/test-support/fake-runs-remote.js';
import { useTemporaryRunDirectories } from '../runs/test-support/run-directories.js';
import { createArtifact, loadArtifact } from './create-artifact.js';

const directories = useTemporaryRunDirectories();
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function sources(): Promise<string> {
  const root = join(directories.root(), 'src');
  await mkdir(join(root, 'logs', 'nested'), { recursive: true });
  await writeFile(join(root, '1.png'), 'png bytes');
  await writeFile(join(root, 'logs', 'events.1'), 'event one');
  await writeFile(join(root, 'logs', 'nested', 'events.2'), 'event two');
  return root;
}

describe('Artifact', () => {
  it('copies files and directories by the objPath rules and records references', async () => {
    const root = await sources();
    const artifact = await createArtifact({ name: 'outputs', labels: ['tb'], description: 'logs' });
    expect(artifact.altName).toMatch(/^outputs_\d{6}_\d{6}_[a-z0-9]{6}$/);
    expect(artifact.local).toBe(join(directories.root(), 'artifacts', artifact.altName));
    await artifact.addFile(join(root, '1.png'));
    await artifact.addFile(join(root, '1.png'), 'images/');
    await artifact.addFile(join(root, '1.png'), 'best.png');
    await artifact.addDir(join(root, 'logs/'));
    await artifact.addDir(join(root, 'logs'), 'tb/');
    await artifact.addDir(join(root, 'logs'), 'flat');
    await artifact.addReference('s3://bucket/mnist.tar', 'data/');
    expect(artifact.objects.map((each) => each.path)).toEqual([
      '1.png',
      'images/1.png',
      'best.png',
      'logs/events.1',
      'logs/nested/events.2',
      'tb/logs/events.1',
      'tb/logs/nested/events.2',
      'flat/events.1',
      'flat/nested/events.2',
      'data/mnist.tar',
    ]);
    expect(artifact.objects[0]).toEqual({ path: '1.png', sha256: sha256('png bytes'), size: 9 });
    expect(artifact.objects.at(-1)).toEqual({ path: 'data/mnist.tar', uri: 's3://bucket/mnist.tar' });
    expect(await readFile(join(artifact.local, 'files', 'tb', 'logs', 'nested', 'events.2'), 'utf8')).toBe('event two');
    const loaded = await loadArtifact(artifact.local);
    expect(loaded.objects).toEqual(artifact.objects);
    expect(loaded.labels).toEqual(['tb']);
  });

  it('names the path in a sentence when addFile or addDir is given a missing or wrong-kind path', async () => {
    const root = await sources();
    const artifact = await createArtifact({ name: 'typos' });
    const missing = join(root, 'weigths.bin');
    await expect(artifact.addFile(missing)).rejects.toThrow(`addFile: there is no file at ${missing}`);
    await expect(artifact.addDir(join(root, 'lgos'))).rejects.toThrow(
      `addDir: there is no directory at ${join(root, 'lgos')}`,
    );
    await expect(artifact.addFile(join(root, 'logs'))).rejects.toThrow(/is a directory, not a file; use addDir/);
    await expect(artifact.addDir(join(root, '1.png'))).rejects.toThrow(
      /1\.png is a file, not a directory; use addFile/,
    );
    expect(artifact.objects).toEqual([]);
  });

  it('replaces an object added twice at the same path', async () => {
    const root = await sources();
    const artifact = await createArtifact({ name: 'twice' });
    await artifact.addFile(join(root, '1.png'), 'x.bin');
    await artifact.addFile(join(root, 'logs', 'events.1'), 'x.bin');
    expect(artifact.objects).toEqual([{ path: 'x.bin', sha256: sha256('event one'), size: 9 }]);
  });

  it('uploads file bytes then the record, once; after that it no longer changes', async () => {
    const root = await sources();
    const remote = new FakeRunsRemote();
    const artifact = await createArtifact({ name: 'model' });
    await artifact.addDir(join(root, 'logs'));
    await artifact.addReference('https://example.org/weights.bin');
    const first = await artifact.upload({ remote, folder: 'models', makeFolder: true });
    expect(first).toMatchObject({ created: true, skipped: false });
    const [body] = remote.callsOf('createArtifact') as ArtifactCreateBody[];
    expect(body).toMatchObject({ name: 'model', altName: artifact.altName, folder: 'models', makeFolder: true });
    expect(body?.objects).toEqual([
      { path: 'logs/events.1', sha256: sha256('event one'), size: 9 },
      { path: 'logs/nested/events.2', sha256: sha256('event two'), size: 9 },
      { path: 'weights.bin', uri: 'https://example.org/weights.bin' },
    ]);
    expect(remote.blobs.has(sha256('event two'))).toBe(true);
    const again = await (await loadArtifact(artifact.local)).upload({ remote });
    expect(again).toEqual({ id: first.id, created: false, skipped: false });
    expect(remote.callsOf('createArtifact')).toHaveLength(1);
    await expect(artifact.addFile(join(root, '1.png'))).rejects.toThrow(/uploaded already/);
  });

  it('loads a server artifact by path and records it locally as uploaded', async () => {
    const remote = new FakeRunsRemote();
    const artifact = await createArtifact({ name: 'shared' });
    await artifact.addReference('s3://bucket/a.bin');
    const { id } = await artifact.upload({ remote, folder: 'team' });
    const loaded = await loadArtifact('team/shared', { remote });
    expect(loaded.objects).toEqual([{ path: 'a.bin', uri: 's3://bucket/a.bin' }]);
    expect((await loaded.upload({ remote })).id).toBe(id);
    await expect(loadArtifact('team/missing', { remote })).rejects.toThrow(/No artifact at team\/missing/);
  });
});
