/**
 * The dashboard as a new user found it, in Chromium against a real server with real data:
 * a run page after one of its files was deleted, a Marcelle run's checkpoints and assets,
 * Marcelle assets in the datalake gallery, the service browser's columns, the runs table's
 * first columns, names in the lineage graph, and a chart of a single point.
 * Screenshots go to test-screenshots/.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import {
  api,
  assertDashboardBuilt,
  HAS_CHROMIUM,
  openSignedInPage,
  type PageStorage,
  postNamedFiles,
  SCREENSHOTS,
  series,
  solidPng,
  uploadBlob,
} from './dashboard-support.js';

const TFJS_MANIFEST = JSON.stringify({
  format: 'layers-model',
  generatedBy: 'TensorFlow.js tfjs-layers v4',
  convertedBy: null,
  modelTopology: { class_name: 'Sequential', config: { name: 'mlp', layers: [] } },
  weightsManifest: [
    { paths: ['./model.weights.bin'], weights: [{ name: 'dense/kernel', shape: [2], dtype: 'float32' }] },
  ],
});

describe.runIf(HAS_CHROMIUM)('the dashboard, as a new user found it', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let ada: { id: string; token: string };
  let withFiles: { _id: string };
  let marcelleRun: { _id: string };
  let lineageRun: { _id: string };
  let singlePoint: { _id: string };
  const pageErrors: string[] = [];

  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    await assertDashboardBuilt();
    server = await startTestServer({ gcIntervalMs: 0 });
    ada = await server.createUser('ada@example.org', 'correct horse battery');
    const as = api(server, ada.token);

    // A run with two files, one of them deleted afterwards (patched to null).
    const weights = await uploadBlob(server, ada.token, new Uint8Array(4096).fill(7));
    const notes = await uploadBlob(server, ada.token, new TextEncoder().encode('first try'));
    withFiles = await as.post('/runs', { name: 'with-files', hparams: { lr: 0.1, a: 1, batch: 32 } });
    await as.patch(`/runs/${withFiles._id}`, {
      'files.weights': { ...weights, filename: 'weights.bin' },
      'files.notes': { ...notes, filename: 'notes.txt' },
    });
    await as.patch(`/runs/${withFiles._id}`, { 'files.notes': null });

    // A Marcelle run: a tfjs checkpoint (mirrored to the registry) and two assets.
    const modelFiles = await postNamedFiles<[string, string][]>(server, ada.token, '/tfjs-models/upload', [
      { field: 'model.json', bytes: TFJS_MANIFEST },
      { field: 'model.weights.bin', bytes: new Uint8Array(new Float32Array([0.5, -1.25]).buffer) },
    ]);
    const checkpoint = await as.post('/tfjs-models', {
      name: 'mlp@2',
      files: modelFiles,
      format: 'tfjs',
      metadata: { epoch: 2, tfjsModelFormat: 'layers-model' },
    });
    const uploaded = await postNamedFiles(server, ada.token, '/assets/upload', [
      { field: 'cat.png', bytes: await solidPng(120, 90, '#e8c547') },
      { field: 'beep.wav', bytes: 'RIFF....WAVEfmt ' },
    ]);
    const cat = await as.post('/assets', {
      filename: 'cat.png',
      extension: '.png',
      mime: 'image/png',
      url: uploaded['cat.png'],
    });
    await as.post('/assets', { filename: 'beep.wav', extension: '.wav', mime: 'audio/wav', url: uploaded['beep.wav'] });
    marcelleRun = await as.post('/runs', {
      name: 'mlp-1',
      basename: 'mlp',
      start: '2026-11-30T10:00:00',
      source: 'tfjs',
      params: { lr: 0.01, a: 1, batch: 32 },
      logs: { loss: [1, 0.6, 0.4], val_accuracy: [0.5, 0.7, 0.8] },
      checkpoints: [{ id: checkpoint._id, name: 'mlp@2', service: 'tfjs-models', metadata: { epoch: 2 } }],
      assets: [{ id: cat._id, url: cat.url, filename: 'cat.png', epoch: 2 }],
    });

    // A run whose lineage names a dataset version, another run and the checkpoint's registry version.
    const dataset = await as.post('/datasets', { name: 'streets' });
    const datasetVersion = await as.post('/dataset-versions', { datasetId: dataset._id, name: 'v1' });
    lineageRun = await as.post('/runs', {
      name: 'fine-tune',
      hparams: { lr: 0.001, a: 1, batch: 32 },
      associations: {
        inputs: [
          { kind: 'dataset-version', id: datasetVersion._id },
          { kind: 'run', id: marcelleRun._id },
        ],
        outputs: [{ kind: 'model-version', id: checkpoint.registry.versionId }],
      },
    });
    singlePoint = await as.post('/runs', { name: 'one-point', hparams: { lr: 0.05, a: 1, batch: 32 } });
    await as.post('/metrics', { run: singlePoint._id, series: [series('val', 'accuracy', 0, 1, () => 0.7)] });
    await as.post('/experiments', { name: 'first', score: 0.9, optimizer: 'adam' });
    await as.post('/experiments', { name: 'second', score: 0.4, optimizer: 'sgd', notes: 'diverged' });

    ({ browser, page } = await openSignedInPage(ada.token, {
      viewport: { width: 1280, height: 800 },
      timeoutMs: 10_000,
      pageErrors,
    }));
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail')
      await shot(`failed-${context.task.name.slice(0, 40).replace(/\W+/g, '-')}`);
    expect(pageErrors).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows a run whose file was deleted, listing the files it still has', async () => {
    await page.goto(`${server.url}/runs/${withFiles._id}`);
    await page.getByRole('heading', { name: /with-files/ }).waitFor();
    await page.getByRole('button', { name: 'weights' }).waitFor();
    expect(await page.getByRole('button', { name: 'notes' }).count()).toBe(0);
    await shot('defect-deleted-file');
  });

  it("lists a Marcelle run's checkpoint, its registry version and its assets", async () => {
    await page.goto(`${server.url}/runs/${marcelleRun._id}`);
    await page.getByRole('heading', { name: /mlp-1/ }).waitFor();
    await page.getByRole('button', { name: 'cat.png' }).waitFor();
    await page.getByText('mlp@2').waitFor();
    await page.getByRole('button', { name: 'model.json' }).waitFor();
    await page.getByRole('link', { name: 'mlp v1' }).waitFor();
    expect(await page.getByText('No files.').count()).toBe(0);
    expect(await page.getByText('No artifacts.').count()).toBe(0);
    // The asset downloads through its url route with the session's token.
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'cat.png' }).click();
    expect((await download).suggestedFilename()).toBe('cat.png');
    await page.locator('[data-chart="val/accuracy"] canvas').waitFor();
    await shot('defect-marcelle-run');
  });

  it('shows Marcelle assets in the gallery: a picture from its url, other files as file tiles', async () => {
    await page.goto(`${server.url}/datalake`);
    const picture = page.getByRole('img', { name: 'cat.png' });
    await picture.waitFor();
    await expect
      .poll(() => picture.evaluate((image) => (image as unknown as { naturalWidth: number }).naturalWidth))
      .toBe(120);
    await page.getByRole('img', { name: 'beep.wav (file)' }).waitFor();
    expect(await page.getByText(/not available/).count()).toBe(0);
    await shot('defect-gallery-marcelle-assets');
  });

  it("shows a service's documents with their fields as columns", async () => {
    await page.goto(`${server.url}/services/experiments`);
    await page.getByText(/2 documents/).waitFor();
    const headers = await page.locator('table.documents-table th').allTextContents();
    expect(headers.slice(0, 2)).toEqual(['_id', 'name']);
    expect(headers).toEqual(expect.arrayContaining(['score', 'optimizer', 'notes']));
    const score = headers.indexOf('score');
    const cells = page.locator('table.documents-table tbody tr.document-row');
    const scores = await cells.evaluateAll(
      (rows, at) => rows.map((row) => row.querySelectorAll('td')[at]?.textContent),
      score,
    );
    expect(scores.sort()).toEqual(['0.4', '0.9']);
    await page.getByRole('cell', { name: 'second' }).click();
    // The row opens to the whole document.
    await page.locator('tr.document-detail dl.json dt', { hasText: 'notes' }).waitFor();
    await shot('defect-services-columns');
  });

  it('starts the runs table with the hparams that differ and the main metrics', async () => {
    await page.evaluate(() =>
      (globalThis as unknown as { localStorage: PageStorage }).localStorage.removeItem('larder.runsView'),
    );
    await page.goto(`${server.url}/runs`);
    await expect.poll(() => page.getByTestId('run-count').textContent()).toBe('4 runs');
    await page.getByRole('columnheader', { name: 'lr' }).waitFor();
    await page.getByRole('columnheader', { name: 'val.accuracy' }).waitFor();
    await page.getByRole('columnheader', { name: 'train.loss' }).waitFor();
    const headers = await page.getByRole('columnheader').allTextContents();
    // `a` and `batch` are the same in every run: nothing to compare.
    expect(headers.some((header) => /^(a|batch)\b/.test(header.trim()))).toBe(false);
    await shot('defect-runs-default-columns');
  });

  it('names the lineage nodes: runs, dataset versions and model versions', async () => {
    await page.goto(`${server.url}/runs/${lineageRun._id}`);
    const lineage = page.locator('svg.lineage');
    await lineage.waitFor();
    await expect
      .poll(() => lineage.locator('.lineage-node text:not(.kind)').allTextContents())
      .toEqual(expect.arrayContaining(['fine-tune', 'mlp-1', 'streets / v1', 'mlp v1']));
    // The version it names as an output is listed with the run's artifacts too.
    await page.getByRole('link', { name: 'mlp v1' }).waitFor();
    await lineage.scrollIntoViewIfNeeded();
    await shot('defect-lineage-names');
  });

  it('draws the point of a chart of a single point', async () => {
    await page.goto(`${server.url}/runs/${singlePoint._id}`);
    const canvas = page.locator('[data-chart="val/accuracy"] canvas');
    await canvas.waitFor();
    // Pixels of the run's colour (#2f6fd0) on the plot: a dot, where a line of one point draws nothing.
    const coloured = () =>
      canvas.evaluate((element) => {
        const chart = element as unknown as {
          width: number;
          height: number;
          getContext(kind: '2d'): {
            getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
          };
        };
        const { data } = chart.getContext('2d').getImageData(0, 0, chart.width, chart.height);
        let count = 0;
        for (let at = 0; at < data.length; at += 4) {
          const [r, g, b] = [data[at] as number, data[at + 1] as number, data[at + 2] as number];
          if (Math.abs(r - 47) < 30 && Math.abs(g - 111) < 30 && Math.abs(b - 208) < 30) count++;
        }
        return count;
      });
    await expect.poll(coloured).toBeGreaterThan(12);
    await page
      .locator('[data-chart="val/accuracy"]')
      .screenshot({ path: join(SCREENSHOTS, 'defect-single-point.png') });
  });
});
