/**
 * Compare at scale in Chromium against a real server: 10,000 runs created in bulk through
 * the REST API, drawn as parallel coordinates; brushes on a numeric and a category axis
 * select runs, and the runs table lists exactly those. Screenshots go to test-screenshots/.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { api, assertDashboardBuilt, HAS_CHROMIUM, openSignedInPage, SCREENSHOTS, series } from './dashboard-support.js';

const RUNS = 10_000;
const OPTIMIZERS = ['adam', 'sgd', 'rmsprop'];
const hparamsOf = (index: number) => ({
  depth: index % 10,
  lr: 10 ** -(1 + (index % 4)),
  optimizer: OPTIMIZERS[index % 3] as string,
  seed: 7,
});

describe.runIf(HAS_CHROMIUM)('compare at scale in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;

  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });

  beforeAll(async () => {
    await assertDashboardBuilt();
    server = await startTestServer({ gcIntervalMs: 0 });
    const ada = await server.createUser('ada@example.org', 'correct horse battery');
    const as = api(server, ada.token);
    for (let first = 0; first < RUNS; first += 500) {
      await as.post(
        '/runs',
        Array.from({ length: 500 }, (_, offset) => ({
          name: `run-${String(first + offset).padStart(5, '0')}`,
          hparams: hparamsOf(first + offset),
        })),
      );
    }
    // A metric summary on some of them: the runs without one break their line at that axis.
    const some = await as.get('/runs?$limit=40&$select[]=_id&$sort[name]=1');
    for (const [index, run] of (some.data as { _id: string }[]).entries()) {
      await as.post('/metrics', {
        run: run._id,
        series: [series('val', 'accuracy', 0, 3, (step) => 0.5 + index / 100 + step / 10)],
      });
    }

    ({ browser, page } = await openSignedInPage(ada.token, {
      viewport: { width: 1440, height: 900 },
      timeoutMs: 30_000,
    }));
  }, 240_000);

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail')
      await shot(`failed-${context.task.name.slice(0, 40).replace(/\W+/g, '-')}`);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Drags along an axis from `from` to `to`, fractions of its height from the top. */
  async function brush(path: string, from: number, to: number) {
    const box = await page.locator(`[data-axis="${path}"]`).boundingBox();
    if (!box) throw new Error(`no axis ${path}`);
    await page.mouse.move(box.x, box.y + box.height * from);
    await page.mouse.down();
    for (let step = 1; step <= 8; step++)
      await page.mouse.move(box.x, box.y + box.height * (from + ((to - from) * step) / 8));
    await page.mouse.up();
  }

  /** The hparams of the runs in the table's rows on screen, from their names. */
  async function shownRuns() {
    const names = await page.locator('.vt-row:not(.pending) .vt-cell:nth-child(2)').allTextContents();
    return names.map((name) => hparamsOf(Number(name.replace('run-', ''))));
  }

  /** The server answers 10,000 runs slower on a busy machine than `expect.poll`'s default second. */
  const eventually = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 20_000 });
  const tableCount = () => page.getByTestId('run-count').textContent();
  const plotCount = () => page.getByTestId('plot-count').textContent();

  it('draws parallel coordinates of 10,000 runs; brushes filter the runs table', async () => {
    await page.goto(`${server.url}/runs`);
    await eventually(tableCount).toBe('10,000 runs');
    await page.getByRole('button', { name: 'Plots' }).click();
    await page.getByRole('img', { name: 'Parallel coordinates of 10000 runs' }).waitFor();
    for (const axis of ['hparams.depth', 'hparams.lr', 'hparams.optimizer'])
      await page.locator(`[data-axis="${axis}"]`).waitFor();
    // `seed` is the same in every run: not an axis.
    expect(await page.locator('[data-axis="hparams.seed"]').count()).toBe(0);
    const drawn = await page.waitForFunction(
      () =>
        (
          performance.getEntriesByName('larder:parallel-drawn') as unknown as {
            detail: { runs: number; drawn: number };
          }[]
        ).find((mark) => mark.detail.runs === 10_000)?.detail,
    );
    expect(await drawn.jsonValue()).toMatchObject({ runs: 10_000, drawn: 10_000 });
    await eventually(plotCount).toBe('10,000 of 10,000 runs selected');
    await shot('compare-at-scale-all');

    // depth runs 0..9 bottom to top: 20%..60% from the top is 7.2 down to 3.6, depths 4 to 7.
    await brush('hparams.depth', 0.2, 0.6);
    await eventually(plotCount).toBe('4,000 of 10,000 runs selected');
    await eventually(tableCount).toBe('4,000 runs');
    const shown = await shownRuns();
    expect(shown.length).toBeGreaterThan(5);
    expect(shown.filter((each) => each.depth < 4 || each.depth > 7)).toEqual([]);

    // optimizer categories bottom to top: adam, rmsprop, sgd; the top fifth is sgd.
    await brush('hparams.optimizer', 0, 0.2);
    const expected = Array.from({ length: RUNS }, (_, index) => hparamsOf(index)).filter(
      (each) => each.depth >= 4 && each.depth <= 7 && each.optimizer === 'sgd',
    ).length;
    await eventually(tableCount).toBe(`${expected.toLocaleString('en')} runs`);
    await eventually(plotCount).toBe(`${expected.toLocaleString('en')} of 10,000 runs selected`);
    // Every row the table shows is one the brushes keep.
    await expect
      .poll(async () =>
        (await shownRuns()).filter((each) => each.optimizer !== 'sgd' || each.depth < 4 || each.depth > 7),
      )
      .toEqual([]);
    const brushed = await page.evaluate(() => performance.getEntriesByName('larder:brush-drawn').length);
    expect(brushed).toBeGreaterThan(4);
    await shot('compare-at-scale-brushed');

    // A click on the axis clears its brush.
    const box = await page.locator('[data-axis="hparams.optimizer"]').boundingBox();
    await page.mouse.click(box!.x, box!.y + box!.height / 2);
    await eventually(tableCount).toBe('4,000 runs');
  }, 60_000);

  it('plots a metric summary as an axis and against an hparam in the scatter plot', async () => {
    const plots = page.getByRole('region', { name: 'Compare runs at scale' });
    await plots.getByText(/^Axes/).click();
    await plots.getByPlaceholder(/any field/).fill('metrics.val.accuracy.last');
    await plots.getByPlaceholder(/any field/).press('Enter');
    await page.locator('[data-axis="metrics.val.accuracy.last"]').waitFor();
    await plots.getByText(/^Axes/).click();
    await page.getByLabel('Scatter x').selectOption('hparams.lr');
    await page.getByLabel('Scatter y').selectOption('metrics.val.accuracy.last');
    await page.getByRole('img', { name: 'Scatter of val.accuracy against lr' }).locator('canvas').waitFor();
    const points = () =>
      page.evaluate(
        () =>
          (performance.getEntriesByName('larder:scatter-drawn') as unknown as { detail: { points: number } }[]).at(-1)
            ?.detail.points,
      );
    // Only the 40 runs with the metric have a point.
    await eventually(points).toBe(40);
    await shot('compare-at-scale-scatter');
  }, 60_000);

  it('keeps the scroll position of the table, and fills its rows in, when its columns change', async () => {
    await page.goto(`${server.url}/runs`);
    const plots = page.getByRole('button', { name: 'Plots' });
    if ((await plots.getAttribute('aria-pressed')) === 'true') await plots.click();
    await eventually(tableCount).toBe('10,000 runs');
    const scroller = page.locator('.vt-scroll');
    // Newest first: the row at 5,000 × 30 px is run-04999.
    await scroller.evaluate((element) => {
      (element as unknown as { scrollTop: number }).scrollTop = 150_000;
    });
    const row = page.locator('.vt-row:not(.pending)', { hasText: 'run-04990' });
    await row.waitFor();
    const columns = page.locator('.runs-main > .toolbar .column-picker');
    await columns.getByText(/^Columns/).click();
    await columns.getByLabel('lr', { exact: true }).uncheck();
    await page.getByRole('columnheader', { name: 'lr' }).waitFor({ state: 'detached' });
    expect(await scroller.evaluate((element) => (element as unknown as { scrollTop: number }).scrollTop)).toBe(150_000);
    await row.waitFor();
    await shot('runs-scrolled-after-columns-change');
  });
});
