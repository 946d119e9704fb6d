/**
 * `larder pictures …` and `larder datasets …` against a real server, as a user runs them:
 * upload a folder with tags, list and tag, build a dataset, import and export COCO,
 * download a version; mistakes end in one sentence and a non-zero exit.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { runCli } from './support/run-cli.js';

describe('larder pictures and larder datasets', () => {
  let server: TestServer;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const images: Buffer[] = [];

  beforeAll(async () => {
    server = await startTestServer({ gcIntervalMs: 0 });
    dir = await mkdtemp(join(tmpdir(), 'larder-datalake-cli-'));
    env = {
      ...process.env,
      LARDER_CREDENTIALS: join(dir, 'credentials.json'),
      LARDER_URL: server.url,
      LARDER_TOKEN: (await server.createUser('ada@example.org')).token,
    };
    await mkdir(join(dir, 'pics'));
    for (let i = 0; i < 4; i++) {
      const bytes = await sharp({
        create: { width: 32 + i, height: 24, channels: 3, background: { r: 50 * i, g: 0, b: 0 } },
      })
        .jpeg()
        .toBuffer();
      images.push(bytes);
      await writeFile(join(dir, 'pics', `p${i}.jpg`), bytes);
    }
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('uploads, lists, tags, builds a dataset, moves COCO both ways and downloads', async () => {
    const uploaded = await runCli(['pictures', 'upload', join(dir, 'pics'), '--tag', 'street', '--tag', 'day'], {
      env,
    });
    expect(uploaded).toMatchObject({ code: 0, stdout: 'uploaded 4 pictures\n' });
    const listed = await runCli(['datalake', 'ls', '--tag', 'street'], { env });
    const lines = listed.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    // One upload's pictures share their creation time: find p0 among them.
    const first = lines.find((line) => line.includes('\tp0.jpg\t'));
    expect(first).toMatch(/^p\w+\tp0\.jpg\t32x24\tstreet,day$/);
    const firstId = first?.split('\t')[0] as string;
    const tagged = await runCli(['pictures', 'tag', firstId, '--add', 'night', '--remove', 'day'], { env });
    expect(tagged.stdout).toBe('tagged 1 pictures\n');
    expect((await runCli(['pictures', 'ls', '--tag', 'night'], { env })).stdout).toMatch(
      /p0\.jpg\t32x24\tstreet,night/,
    );

    const created = await runCli(['datasets', 'create', 'streets', '--tag', 'street'], { env });
    expect(created.stdout).toBe('created streets/first with 4 pictures\n');
    const coco = {
      images: [{ id: 1, file_name: 'p1.jpg', width: 33, height: 24 }],
      categories: [{ id: 1, name: 'car' }],
      annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [1, 1, 5, 5], segmentation: [], area: 25, iscrowd: 0 }],
    };
    await writeFile(join(dir, 'coco.json'), JSON.stringify(coco));
    const imported = await runCli(['datasets', 'import-coco', 'streets/first', join(dir, 'coco.json')], { env });
    expect(imported.stdout).toBe('matched 1 of 1 images; created 1 annotations and 1 labels\n');
    const exported = await runCli(['datasets', 'export-coco', 'streets/first', '--accepted'], { env });
    const parsed = JSON.parse(exported.stdout);
    expect(parsed.images).toHaveLength(4);
    expect(parsed.annotations).toMatchObject([{ bbox: [1, 1, 5, 5], area: 25, iscrowd: 0 }]);

    const version = await runCli(['datasets', 'version', 'streets', 'second'], { env });
    expect(version.stdout).toBe('created streets/second with 4 pictures\n');
    expect((await runCli(['datasets', 'publish', 'streets/first'], { env })).code).toBe(0);
    const ls = await runCli(['datasets', 'ls'], { env });
    expect(ls.stdout).toBe('streets/first\t4\tpublished\nstreets/second\t4\tdraft\n');

    const target = join(dir, 'out');
    const downloaded = await runCli(['datasets', 'download', 'streets/first', target], { env });
    expect(downloaded.code).toBe(0);
    expect(downloaded.stdout).toMatch(/^4 files \(0 already there\)/);
    expect((await readdir(target)).sort()).toEqual(['p0.jpg', 'p1.jpg', 'p2.jpg', 'p3.jpg']);
    const copy = await readFile(join(target, 'p2.jpg'));
    expect(createHash('sha256').update(copy).digest('hex')).toBe(
      createHash('sha256')
        .update(images[2] as Buffer)
        .digest('hex'),
    );
    expect((await runCli(['datasets', 'download', 'streets/first', target], { env })).stdout).toMatch(
      /^4 files \(4 already there\)/,
    );

    const refused = await runCli(['pictures', 'rm', firstId], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^larder: 'p0\.jpg' belongs to the published version 'first' of dataset 'streets'/);
    // A dozen CLI processes in a row: a ceiling for a loaded machine, not a speed check.
  }, 180_000);

  it('refuses mistakes with one clear sentence', async () => {
    const missing = await runCli(['pictures', 'upload', join(dir, 'nope')], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^larder: No file or folder .*nope\n$/);
    const noDataset = await runCli(['datasets', 'download', 'ghost/v1', join(dir, 'x')], { env });
    expect(noDataset.stderr).toMatch(/^larder: No dataset named 'ghost'/);
    const badStatus = await runCli(
      ['datasets', 'import-coco', 'streets/second', join(dir, 'coco.json'), '--status', 'ok'],
      { env },
    );
    expect(badStatus.stderr).toBe('larder: --status is pending, accepted or rejected\n');
    await writeFile(join(dir, 'broken.json'), '{"images": 3}');
    const broken = await runCli(['datasets', 'import-coco', 'streets/second', join(dir, 'broken.json')], { env });
    expect(broken.stderr).toMatch(/^larder: Not valid COCO \(1 problem\): "images" must be a list/);
    const noTags = await runCli(['pictures', 'tag', 'x'], { env });
    expect(noTags.stderr).toBe('larder: Give --add or --remove tags\n');
    const anonymous = await runCli(['pictures', 'ls'], { env: { ...env, LARDER_TOKEN: '' } });
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/larder login/);
  });
});
