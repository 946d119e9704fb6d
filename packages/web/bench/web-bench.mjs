/**
 * Measures the dashboard in headless Chromium against a real server (the built
 * packages/server and packages/web: run `npm run build` first), and prints JSON:
 * - the runs table of 10,000 runs: time from navigation to the first rows on screen, and
 *   frame times while scrolling through all of them;
 * - a chart of 50 runs × 100,000 points (downsampled by the server to `points` per series):
 *   time from navigation to the drawn chart, and the draw itself;
 * - live updates: time from a `points` event reaching the page to the chart redrawn;
 * - compare at scale: parallel coordinates of the 10,000 runs (time from navigation to the
 *   first drawing and to the frame that shows it, and the layout and drawing itself), then brushing along an axis (the
 *   selection and redrawing per frame, and the time between frames while dragging).
 *
 * Usage: node packages/web/bench/web-bench.mjs [--runs 10000] [--series 50] [--points 100000]
 */
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { CHROMIUM, startBuiltServer } from './built-dashboard.mjs';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '10000' },
    series: { type: 'string', default: '50' },
    points: { type: 'string', default: '100000' },
  },
});
const RUNS = Number(args.runs);
const SERIES = Number(args.series);
const POINTS = Number(args.points);
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const round = (value) => Math.round(value * 10) / 10;

const { server, token, stop } = await startBuiltServer('larder-web-bench-');
const call = async (method, path, body) => {
  const response = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json();
};

const result = { runs: RUNS, chart: { runs: SERIES, pointsPerRun: POINTS } };
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
try {
  // Seeding: 10,000 runs in batches, each with hparams and a metric summary to show.
  let started = performance.now();
  const statuses = ['Running', 'Complete', 'Failed', 'Interrupted'];
  for (let first = 0; first < RUNS; first += 500) {
    const batch = Array.from({ length: Math.min(500, RUNS - first) }, (_, offset) => {
      const index = first + offset;
      return {
        name: `run-${String(index).padStart(5, '0')}`,
        folder: `bench/group-${index % 20}`,
        makeFolder: true,
        status: statuses[index % 4],
        hparams: {
          lr: 10 ** -(1 + (index % 4)),
          batch: 16 << (index % 5),
          depth: index % 7,
          dropout: (index % 11) / 20,
          optimizer: ['adam', 'sgd', 'rmsprop'][index % 3],
        },
      };
    });
    await call('POST', '/runs', batch);
  }
  result.seedRunsSeconds = round((performance.now() - started) / 1000);

  started = performance.now();
  const chartRuns = [];
  for (let index = 0; index < SERIES; index++) {
    const run = await call('POST', '/runs', { name: `curve-${index}`, folder: 'bench/curves', makeFolder: true });
    chartRuns.push(run._id);
    const steps = Array.from({ length: POINTS }, (_, step) => step);
    const values = steps.map(
      (step) => Math.exp(-step / (POINTS / 5)) * (1 + index / SERIES) + 0.05 * Math.sin(step / 50),
    );
    await call('POST', '/metrics', {
      run: run._id,
      series: [{ type: 'train', name: 'loss', offset: 0, steps, values }],
    });
  }
  result.seedPointsSeconds = round((performance.now() - started) / 1000);

  // Compare at scale: the plots open above the table (axes: the hparams that differ).
  const plotsContext = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  await plotsContext.addInitScript((value) => {
    sessionStorage.setItem('larder.token', value);
    localStorage.setItem('larder.runsView', JSON.stringify({ plots: true }));
  }, token);
  const plotsPage = await plotsContext.newPage();
  const firstDrawn = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    await plotsPage.goto(`${server.url}/runs`);
    const drawnMark = await plotsPage.waitForFunction(
      (count) => performance.getEntriesByName('larder:parallel-drawn').find((mark) => mark.detail.runs === count),
      // Every run seeded, up to the 10,000 the plots read.
      Math.min(RUNS + SERIES, 10_000),
      { timeout: 60_000 },
    );
    const drawn = await drawnMark.evaluate((mark) => ({ at: mark.startTime, ...mark.detail }));
    // Two frames later the canvases' pixels are on screen: their raster is not in the mark above.
    const shownMark = await plotsPage.waitForFunction(
      (after) => performance.getEntriesByName('larder:parallel-shown').find((mark) => mark.startTime >= after),
      drawn.at,
      { timeout: 60_000 },
    );
    firstDrawn.push({ ...drawn, shownAt: await shownMark.evaluate((mark) => mark.startTime) });
  }
  const axis = await plotsPage.locator('[data-axis="hparams.depth"]').boundingBox();
  await plotsPage.evaluate(() => {
    performance.clearMarks('larder:brush-drawn');
    // Frame times as the page sees them while the brush is dragged (rAF to rAF).
    const frames = [];
    let last = performance.now();
    const tick = (now) => {
      frames.push(now - last);
      last = now;
      if (!globalThis.stopFrames) requestAnimationFrame(tick);
    };
    globalThis.brushFrames = frames;
    globalThis.stopFrames = false;
    requestAnimationFrame(tick);
  });
  await plotsPage.mouse.move(axis.x, axis.y + 2);
  await plotsPage.mouse.down();
  for (let step = 1; step <= 60; step++)
    await plotsPage.mouse.move(axis.x, axis.y + 2 + ((axis.height - 4) * step) / 60);
  await plotsPage.mouse.up();
  const frameTimes = await plotsPage.evaluate(() => {
    globalThis.stopFrames = true;
    return globalThis.brushFrames.slice(1);
  });
  const brushMarks = await plotsPage.evaluate(() =>
    performance.getEntriesByName('larder:brush-drawn').map((mark) => ({ at: mark.startTime, ...mark.detail })),
  );
  const sortedFrames = [...frameTimes].sort((a, b) => a - b);
  result.compareAtScale = {
    runs: firstDrawn[0].runs,
    axes: firstDrawn[0].axes,
    parallelDrawnAfterNavigationMs: {
      median: round(median(firstDrawn.map((mark) => mark.at))),
      all: firstDrawn.map((mark) => round(mark.at)),
    },
    // The frame after, with the pixels drawn (the browser's raster of the lines included).
    parallelShownAfterNavigationMs: {
      median: round(median(firstDrawn.map((mark) => mark.shownAt))),
      all: firstDrawn.map((mark) => round(mark.shownAt)),
    },
    // Of which reading the runs' fields from the server (10 pages of 1,000).
    readRunsMs: {
      median: round(median(firstDrawn.map((mark) => mark.loadMs))),
      all: firstDrawn.map((mark) => round(mark.loadMs)),
    },
    parallelLayoutAndDrawMs: {
      median: round(median(firstDrawn.map((mark) => mark.ms))),
      all: firstDrawn.map((mark) => round(mark.ms)),
    },
    brushFrames: brushMarks.length,
    brushSelectAndDrawMs: {
      median: round(median(brushMarks.map((mark) => mark.ms))),
      max: round(Math.max(...brushMarks.map((mark) => mark.ms))),
    },
    framesWhileBrushing: {
      frames: sortedFrames.length,
      medianMs: round(median(sortedFrames)),
      p95Ms: round(sortedFrames[Math.floor(sortedFrames.length * 0.95)]),
      maxMs: round(sortedFrames.at(-1)),
    },
  };
  await plotsContext.close();

  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  await context.addInitScript((value) => {
    sessionStorage.setItem('larder.token', value);
    localStorage.removeItem('larder.runsView');
  }, token);
  const page = await context.newPage();

  // The runs table: first rows on screen, then scrolling through every row.
  const tableTimes = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.goto(`${server.url}/runs`);
    await page.waitForFunction(() => performance.getEntriesByName('larder:table-rendered').length > 0);
    tableTimes.push(await page.evaluate(() => performance.getEntriesByName('larder:table-rendered')[0].startTime));
  }
  const total = await page.evaluate(() => performance.getEntriesByName('larder:table-rendered')[0].detail.total);
  const scrolling = await page.evaluate(async () => {
    const scroller = document.querySelector('.vt-scroll');
    const frames = [];
    let last = performance.now();
    while (scroller.scrollTop + scroller.clientHeight < scroller.scrollHeight - 2) {
      scroller.scrollTop += 900;
      await new Promise((resolve) => requestAnimationFrame(resolve));
      const now = performance.now();
      frames.push(now - last);
      last = now;
    }
    frames.sort((a, b) => a - b);
    return {
      frames: frames.length,
      medianFrameMs: frames[Math.floor(frames.length / 2)],
      p95FrameMs: frames[Math.floor(frames.length * 0.95)],
      maxFrameMs: frames.at(-1),
    };
  });
  // Rows further down load as they come into view.
  await page.waitForSelector('.vt-row:not(.pending) >> text=run-00000');
  result.table = {
    rowsListed: total,
    firstRowsMs: { median: round(median(tableTimes)), all: tableTimes.map(round) },
    scrollThroughAll: {
      frames: scrolling.frames,
      medianFrameMs: round(scrolling.medianFrameMs),
      p95FrameMs: round(scrolling.p95FrameMs),
      maxFrameMs: round(scrolling.maxFrameMs),
    },
  };

  // The chart of 50 runs: navigation to drawn, and the draw itself.
  const chartTimes = [];
  let drawn;
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.goto(`${server.url}/compare/${chartRuns.join(',')}`);
    drawn = await page.waitForFunction(
      (count) =>
        performance
          .getEntriesByName('larder:chart-drawn')
          .find((mark) => mark.detail.series === count && mark.detail.points > 0),
      SERIES,
      { timeout: 120_000 },
    );
    const mark = await drawn.evaluate((entry) => ({ at: entry.startTime, ...entry.detail }));
    chartTimes.push(mark);
  }
  result.chart.drawnAfterNavigationMs = {
    median: round(median(chartTimes.map((mark) => mark.at))),
    all: chartTimes.map((mark) => round(mark.at)),
  };
  result.chart.drawMs = round(median(chartTimes.map((mark) => mark.ms)));
  result.chart.pointsDrawn = chartTimes[0].points;

  // Live updates: 100 new points for one run at a time; event to redrawn chart.
  const updates = [];
  for (let round_ = 0; round_ < 10; round_++) {
    await page.evaluate(() => performance.clearMarks());
    const run = chartRuns[round_ % chartRuns.length];
    const offset = POINTS + Math.floor(round_ / chartRuns.length) * 100;
    const steps = Array.from({ length: 100 }, (_, index) => offset + index);
    const sent = performance.now();
    await call('POST', '/metrics', {
      run,
      series: [{ type: 'train', name: 'loss', offset, steps, values: steps.map(() => 0.05) }],
    });
    const posted = performance.now() - sent;
    const timing = await (
      await page.waitForFunction(() => {
        const arrived = performance.getEntriesByName('larder:points-arrived')[0];
        if (!arrived) return undefined;
        const after = performance
          .getEntriesByName('larder:chart-drawn')
          .find((mark) => mark.startTime >= arrived.startTime);
        return after
          ? { updateMs: after.startTime + after.detail.ms - arrived.startTime, drawMs: after.detail.ms }
          : undefined;
      })
    ).jsonValue();
    updates.push({ ...timing, postMs: posted });
  }
  result.liveUpdate = {
    eventToRedrawnMs: {
      median: round(median(updates.map((u) => u.updateMs))),
      max: round(Math.max(...updates.map((u) => u.updateMs))),
    },
    redrawMs: round(median(updates.map((u) => u.drawMs))),
    postMetricsMs: round(median(updates.map((u) => u.postMs))),
  };
  const assets = await page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .filter((entry) => entry.name.includes('/_dashboard/'))
      .map((entry) => ({
        file: entry.name.split('/').at(-1),
        transferBytes: entry.transferSize,
        bytes: entry.decodedBodySize,
      })),
  );
  result.assets = assets;
  await context.close();
} finally {
  await browser.close();
  await stop();
}
console.log(JSON.stringify(result, null, 2));
