/**
 * The dashboard in a real headless Chromium against a real server with real data: signing
 * in, the runs table filtered with the query language, a run whose chart grows while points
 * are posted and whose status changes live, a picture with its boxes drawn, and the pages a
 * user sees for what they may not read. Screenshots go to test-screenshots/.
 */
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import {
  api,
  assertDashboardBuilt,
  CHROMIUM,
  HAS_CHROMIUM,
  SCREENSHOTS,
  series,
  uploadPicture,
} from './dashboard-support.js';

const PASSWORD = 'correct horse battery';

describe.runIf(HAS_CHROMIUM)('the dashboard in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let ada: { id: string; token: string; email: string };
  let bob: { id: string; token: string; email: string };
  let liveRun: { _id: string };
  let version: { _id: string };

  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });

  beforeAll(async () => {
    await assertDashboardBuilt();
    server = await startTestServer({ gcIntervalMs: 0 });
    ada = await server.createUser('ada@example.org', PASSWORD);
    bob = await server.createUser('bob@example.org', PASSWORD);
    const as = api(server, ada.token);

    for (const [index, lr] of [0.1, 0.01, 0.05, 0.001].entries()) {
      const run = await as.post('/runs', {
        name: `sweep-${index}`,
        folder: 'vision/sweep',
        makeFolder: true,
        hparams: { lr, batch: 32 * (index + 1), optimizer: index % 2 ? 'adam' : 'sgd' },
      });
      await as.patch(`/runs/${run._id}`, { status: index === 0 ? 'Failed' : 'Complete' });
      await as.post('/metrics', {
        run: run._id,
        series: [series('val', 'accuracy', 0, 50, (step) => 0.5 + (index + 1) * 0.08 * (1 - Math.exp(-step / 10)))],
      });
    }
    liveRun = await as.post('/runs', {
      name: 'live-training',
      folder: 'vision/live',
      makeFolder: true,
      hparams: { lr: 0.02, layers: 4 },
      platform: { python: '3.12.1', os: 'Linux' },
      git: { commit: '3f2a9c1', branch: 'main', dirty: false },
    });
    await as.patch(`/runs/${liveRun._id}`, {
      'dataLogs.confusion': {
        type: 'heatmap',
        data: {
          categories: ['cat', 'dog'],
          values: [
            [41, 9],
            [6, 44],
          ],
        },
      },
    });
    await as.post('/metrics', {
      run: liveRun._id,
      series: [series('train', 'loss', 0, 200, (step) => 2 * Math.exp(-step / 60) + 0.1)],
    });

    const picture = await uploadPicture(server, ada.token, 'street.png', 320, 240);
    const dataset = await as.post('/datasets', { name: 'streets' });
    version = await as.post('/dataset-versions', { datasetId: dataset._id, name: 'v1', assets: [picture._id] });
    const [car] = await as.post('/dataset-labels', [{ versionId: version._id, name: 'car', type: 'rectangle' }]);
    await as.post('/annotations', {
      versionId: version._id,
      assetId: picture._id,
      labelId: car._id,
      shape: { type: 'rectangle', x: 80, y: 60, width: 160, height: 120 },
    });

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(10_000);
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail')
      await shot(`failed-${context.task.name.slice(0, 40).replace(/\W+/g, '-')}`);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('serves the dashboard at / and keeps the API answering JSON on the same paths', async () => {
    const home = await fetch(`${server.url}/`);
    expect(home.headers.get('content-type')).toMatch(/text\/html/);
    expect(home.headers.get('cache-control')).toBe('no-cache');
    const html = await home.text();
    const script = /src="(\/_dashboard\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const bundle = await fetch(`${server.url}${script}`, { headers: { 'accept-encoding': 'br' } });
    expect(bundle.headers.get('cache-control')).toContain('immutable');
    expect(bundle.headers.get('content-encoding')).toBe('br');
    // A browser navigation to /runs gets the page; API calls on the same path still get JSON.
    const navigation = await fetch(`${server.url}/runs`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(navigation.headers.get('content-type')).toMatch(/text\/html/);
    const asJson = await fetch(`${server.url}/runs`, {
      headers: { accept: 'application/json', authorization: `Bearer ${ada.token}` },
    });
    expect(((await asJson.json()) as { total: number }).total).toBe(5);
    const withQuery = await fetch(`${server.url}/runs?$limit=0`, {
      headers: { accept: 'text/html', authorization: `Bearer ${ada.token}` },
    });
    expect(((await withQuery.json()) as { total: number }).total).toBe(5);
    expect((await fetch(`${server.url}/runs`)).status).toBe(401);
  });

  it('signs in with e-mail and password and lists the runs with their status and hparams', async () => {
    await page.goto(`${server.url}/`);
    await page.getByLabel('E-mail').fill('ada@example.org');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/Wrong e-mail or password/);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'live-training' }).waitFor();
    expect(page.url()).toBe(`${server.url}/runs`);
    await expect.poll(() => page.getByTestId('run-count').textContent()).toBe('5 runs');
    // The columns offered by the runs (hparams, metric summaries) were chosen for a first visit.
    await page.getByRole('columnheader', { name: 'lr' }).waitFor();
    await page.getByRole('columnheader', { name: 'val.accuracy' }).waitFor();
    await page.getByRole('button', { name: 'vision' }).waitFor();
    await shot('runs-table');
  });

  it('filters and sorts the runs table with the query language', async () => {
    await page.getByLabel('Filter runs').fill('hparams.lr >= 0.02 and status = Complete');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await expect.poll(() => page.getByTestId('run-count').textContent()).toBe('1 runs');
    const names = () => page.locator('.vt-row:not(.pending) .vt-cell:nth-child(2)').allTextContents();
    await expect.poll(names).toEqual(['sweep-2']);
    await page.getByLabel('Filter runs').fill('hparams.optimizer in adam|sgd');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await expect.poll(() => page.getByTestId('run-count').textContent()).toBe('4 runs');
    await page.getByRole('button', { name: 'Sort by lr' }).click();
    await expect.poll(names).toEqual(['sweep-0', 'sweep-2', 'sweep-1', 'sweep-3']);
    await shot('runs-filtered');
    await page.getByLabel('Filter runs').fill('hparams.lr >');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/is not a condition/);
    await page.getByLabel('Filter runs').fill('');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await expect.poll(() => page.getByTestId('run-count').textContent()).toBe('5 runs');
  });

  it('opens a run whose chart follows the points posted while it is open, and whose status changes live', async () => {
    await page.goto(`${server.url}/runs/${liveRun._id}`);
    await page.getByRole('heading', { name: /live-training/ }).waitFor();
    await page.locator('[data-chart="train/loss"] canvas').waitFor();
    await page.getByText('3.12.1').waitFor();
    await page.locator('table.heatmap').waitFor();
    const drawnPoints = () =>
      page.evaluate(() => {
        const marks = performance.getEntriesByName('larder:chart-drawn') as unknown as { detail: unknown }[];
        return (marks.at(-1)?.detail as { points: number } | undefined)?.points ?? 0;
      });
    await expect.poll(drawnPoints).toBe(200);
    await shot('run-before-points');

    const as = api(server, ada.token);
    await as.post('/metrics', {
      run: liveRun._id,
      series: [
        series('train', 'loss', 200, 100, (step) => 2 * Math.exp(-step / 60) + 0.1),
        series('val', 'accuracy', 0, 30, (step) => 0.6 + step / 100),
      ],
    });
    // The new series gets its own chart; the existing one grows by the 100 new points.
    await page.locator('[data-chart="val/accuracy"] canvas').waitFor();
    await expect
      .poll(() =>
        page.evaluate(() =>
          (performance.getEntriesByName('larder:chart-drawn') as unknown as { detail: unknown }[]).some(
            (mark) => (mark.detail as { points: number }).points === 300,
          ),
        ),
      )
      .toBe(true);
    await page
      .getByText('Complete')
      .waitFor({ state: 'detached' })
      .catch(() => {});
    await as.patch(`/runs/${liveRun._id}`, { status: 'Complete' });
    await page.locator('.run-header .status-complete').waitFor();
    // Log scale and smoothing redraw without reloading.
    await page.getByLabel('Log scale').check();
    await page.getByLabel('Smoothing').fill('0.8');
    await shot('run-after-points');
  });

  it('compares runs: hparams side by side with the differences highlighted', async () => {
    await page.goto(`${server.url}/runs`);
    await page.getByRole('button', { name: 'sweep' }).click();
    await expect.poll(() => page.getByTestId('run-count').textContent()).toBe('4 runs');
    await page.getByLabel('Select sweep-1').check();
    await page.getByLabel('Select sweep-3').check();
    await page.getByRole('button', { name: /Compare \(2\)/ }).click();
    await page.getByRole('heading', { name: 'Comparing 2 runs' }).waitFor();
    const differing = page.locator('table.compare tr.differs th');
    await expect.poll(() => differing.allTextContents()).toEqual(['batch', 'lr']);
    await page.locator('[data-chart="val/accuracy"] canvas').waitFor();
    await shot('compare');
  });

  it('opens a picture of a dataset version with its box drawn on it', async () => {
    await page.getByRole('link', { name: 'Datasets' }).click();
    await page.getByRole('link', { name: 'v1' }).click();
    await page.getByRole('heading', { name: /v1/ }).waitFor();
    await page.getByRole('link', { name: 'street.png' }).click();
    const box = page.locator('svg g[data-shape="rectangle"][data-label="car"] rect').last();
    await box.waitFor();
    expect(await box.getAttribute('width')).toBe('160');
    const picture = page.getByRole('img', { name: 'street.png' });
    await expect
      .poll(() => picture.evaluate((image) => (image as unknown as { naturalWidth: number }).naturalWidth))
      .toBe(320);
    // The box sits over the picture where it was drawn: a quarter in from the left and top,
    // half as wide (within its 2 px stroke).
    const [frame, drawn] = await Promise.all([picture.boundingBox(), box.boundingBox()]);
    expect(Math.abs(drawn!.x - frame!.x - frame!.width / 4)).toBeLessThan(3);
    expect(Math.abs(drawn!.y - frame!.y - frame!.height / 4)).toBeLessThan(3);
    expect(Math.abs(drawn!.width - frame!.width / 2)).toBeLessThan(3);
    await shot('picture-with-box');
  });

  it('opens the datalake gallery, models, stock and the service browser', async () => {
    await api(server, ada.token).post('/experiments', { name: 'first', score: 0.9 });
    await page.getByRole('link', { name: 'Datalake' }).click();
    await page.getByRole('img', { name: 'street.png' }).waitFor();
    await expect.poll(() => page.locator('.count').textContent()).toBe('1 pictures');
    await shot('datalake-gallery');
    await page.getByRole('link', { name: 'Models' }).click();
    await page.getByText('No models yet').waitFor();
    await page.getByRole('link', { name: 'Stock' }).click();
    await page.getByText('No stock repositories yet').waitFor();
    await page.getByRole('link', { name: 'Services' }).click();
    await page.getByRole('link', { name: 'experiments' }).click();
    await page.getByLabel('Query').fill('score > 0.5');
    await page.getByRole('button', { name: 'Query' }).click();
    await page.getByText(/1 documents/).waitFor();
    await page.getByLabel('Query').fill('score > 0.95');
    await page.getByRole('button', { name: 'Query' }).click();
    await page.getByText(/0 documents/).waitFor();
  });

  it("shows nothing of another user's work, and signs out when the session ends", async () => {
    const bobPage = await browser.newPage();
    await bobPage.goto(`${server.url}/`);
    await bobPage.getByRole('tab', { name: 'API key' }).click();
    await bobPage.getByLabel('API key').fill(bob.token);
    await bobPage.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => bobPage.getByTestId('run-count').textContent()).toBe('0 runs');
    await bobPage.goto(`${server.url}/runs/${liveRun._id}`);
    await expect.poll(() => bobPage.getByRole('alert').textContent()).toMatch(/No run here/);
    await bobPage.goto(`${server.url}/datasets/${version._id}`);
    await expect.poll(() => bobPage.getByRole('alert').textContent()).toMatch(/No dataset version here/);
    await bobPage.screenshot({ path: join(SCREENSHOTS, 'not-shared.png') });
    // A token the server no longer accepts brings the sign-in back.
    await bobPage.evaluate(() => (globalThis as any).sessionStorage.setItem('larder.token', 'not-a-token'));
    await bobPage.goto(`${server.url}/runs`);
    await bobPage.getByRole('button', { name: 'Sign in' }).waitFor();
    await bobPage.close();
  });
});
