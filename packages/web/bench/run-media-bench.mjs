/**
 * Measures a run page holding 100 image steps and 100 histogram steps, in headless Chromium
 * against a real server (the built packages/server and packages/web: `npm run build` first),
 * and prints JSON:
 * - first draw: navigation to the first picture shown, and to every distribution drawn;
 * - requests at first draw: index requests per kind (one is the goal) and picture files fetched;
 * - the step slider: from a step chosen to its picture shown, stepping to the next step
 *   (prefetched) and jumping to far steps (not fetched yet); beside it, in the same page, the
 *   floor: fetching one picture file and decoding it;
 * - a distribution redrawn on hover.
 *
 * Usage: node packages/web/bench/run-media-bench.mjs [--steps 100] [--histograms 4] [--side 256]
 */
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { CHROMIUM, startBuiltServer } from './built-dashboard.mjs';

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '100' },
    histograms: { type: 'string', default: '4' },
    side: { type: 'string', default: '256' },
  },
});
const STEPS = Number(args.steps);
const HISTOGRAMS = Number(args.histograms);
const SIDE = Number(args.side);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round = (value) => Math.round(value * 10) / 10;
const summary = (values) => ({
  median: round(median(values)),
  p95: round([...values].sort((a, b) => a - b)[Math.floor(values.length * 0.95)]),
  max: round(Math.max(...values)),
  n: values.length,
});

const { server, token, stop } = await startBuiltServer('larder-media-bench-');
const call = async (method, path, body, raw) => {
  const response = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(raw ? {} : { 'content-type': 'application/json' }) },
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json();
};

const result = { imageSteps: STEPS, histogramSteps: STEPS, histogramNames: HISTOGRAMS, side: SIDE };
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
try {
  const started = performance.now();
  const run = await call('POST', '/runs', { name: 'media-bench', folder: 'bench/media', makeFolder: true });
  // Pictures that compress like real samples (smooth gradients and noise), one per step.
  const images = [];
  let bytes = 0;
  for (let step = 0; step < STEPS; step++) {
    const pixels = Buffer.alloc(SIDE * SIDE * 3);
    for (let index = 0; index < SIDE * SIDE; index++) {
      const [x, y] = [index % SIDE, Math.floor(index / SIDE)];
      pixels[index * 3] = (x + step * 3) & 255;
      pixels[index * 3 + 1] = (y * 2 + ((index * 2654435761) >>> 27)) & 255;
      pixels[index * 3 + 2] = (step * 2) & 255;
    }
    const png = await sharp(pixels, { raw: { width: SIDE, height: SIDE, channels: 3 } })
      .png()
      .toBuffer();
    bytes += png.length;
    const blob = await call('POST', '/blobs', undefined, png);
    images.push({ run: run._id, key: `i${step}`, name: 'samples', step, caption: `step ${step}`, image: blob });
  }
  await call('POST', '/run-images', images);
  const histograms = [];
  for (let name = 0; name < HISTOGRAMS; name++) {
    for (let step = 0; step < STEPS; step++) {
      const counts = Array.from({ length: 64 }, (_, bin) =>
        Math.round(1000 * Math.exp(-(((bin - 32) / (6 + step / 10)) ** 2))),
      );
      const count = counts.reduce((a, b) => a + b, 0);
      histograms.push({
        run: run._id,
        key: `h${name}-${step}`,
        name: `layer${name}/kernel`,
        step,
        min: -1 - step / 50,
        max: 1 + step / 50,
        counts,
        count,
        sum: 0,
        sumSquares: count / 3,
        nonFinite: 0,
      });
    }
  }
  for (let first = 0; first < histograms.length; first += 1000) {
    await call('POST', '/run-histograms', histograms.slice(first, first + 1000));
  }
  result.seedSeconds = round((performance.now() - started) / 1000);
  result.imageBytesMean = Math.round(bytes / STEPS);

  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  await context.addInitScript((value) => sessionStorage.setItem('larder.token', value), token);
  const page = await context.newPage();

  // First draw, three navigations (each a fresh page: nothing fetched yet).
  const firstDraws = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.goto('about:blank');
    await page.goto(`${server.url}/runs/${run._id}`);
    const marks = await (
      await page.waitForFunction(
        (names) => {
          const shown = performance.getEntriesByName('larder:image-shown')[0];
          const drawn = new Set(
            performance.getEntriesByName('larder:distribution-drawn').map((mark) => mark.detail.name),
          );
          if (!shown || drawn.size < names) return undefined;
          const lastDrawn = Math.max(
            ...performance.getEntriesByName('larder:distribution-drawn').map((m) => m.startTime),
          );
          const resources = performance
            .getEntriesByType('resource')
            .map((entry) => new URL(entry.name).pathname + new URL(entry.name).search);
          return {
            imageShownMs: shown.startTime,
            distributionsDrawnMs: lastDrawn,
            drawEachMs: performance.getEntriesByName('larder:distribution-drawn').map((m) => m.detail.ms),
            indexRequests: {
              images: resources.filter((path) => path.startsWith('/run-images?')).length,
              histograms: resources.filter((path) => path.startsWith('/run-histograms?')).length,
            },
            filesFetched: resources.filter((path) => /^\/run-images\/[^/]+\/file(\?|$)/.test(path)).length,
          };
        },
        HISTOGRAMS,
        { timeout: 60_000 },
      )
    ).jsonValue();
    firstDraws.push(marks);
  }
  result.firstDraw = {
    imageShownAfterNavigationMs: summary(firstDraws.map((each) => each.imageShownMs)),
    distributionsDrawnAfterNavigationMs: summary(firstDraws.map((each) => each.distributionsDrawnMs)),
    distributionDrawMs: summary(firstDraws.flatMap((each) => each.drawEachMs)),
    indexRequests: firstDraws[0].indexRequests,
    filesFetchedAtFirstDraw: firstDraws[0].filesFetched,
  };

  // The slider: set a step (as the input event does) and wait in the page for its picture.
  const moveTo = (index) =>
    page.evaluate(async (target) => {
      const slider = document.querySelector('.image-panel input[type=range]');
      const before = performance.getEntriesByName('larder:image-shown').length;
      const asked = performance.now();
      slider.value = String(target);
      slider.dispatchEvent(new Event('input', { bubbles: true }));
      for (;;) {
        await new Promise((resolve) => requestAnimationFrame(resolve));
        const marks = performance.getEntriesByName('larder:image-shown');
        const shown = marks.slice(before).find((mark) => mark.detail.step === target);
        if (shown) return shown.startTime - asked;
      }
    }, index);
  await moveTo(0);
  const nextStep = [];
  for (let index = 1; index <= 40; index++) nextStep.push(await moveTo(index));
  // Far jumps: steps neither shown nor next to one shown.
  const jumps = [];
  for (const index of [95, 60, 80, 50, 70, 90, 55, 65, 85, 75]) jumps.push(await moveTo(index));
  const floor = await page.evaluate(async (runId) => {
    const token = sessionStorage.getItem('larder.token');
    const page = await (
      await fetch(`/run-images?run=${runId}&$limit=1&$skip=99&$select[]=step`, {
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      })
    ).json();
    const time = async (query) => {
      const times = [];
      for (let attempt = 0; attempt < 5; attempt++) {
        const started = performance.now();
        const response = await fetch(`/run-images/${page.data[0]._id}/file${query}`, {
          headers: { authorization: `Bearer ${token}` },
          cache: 'no-store',
        });
        await createImageBitmap(await response.blob());
        times.push(performance.now() - started);
      }
      return times;
    };
    // The stored file (what the panel asks for unless a picture is far wider than it) and a
    // copy scaled by the server to a panel's width.
    return { stored: await time(''), scaled: await time('?width=640') };
  }, run._id);
  result.slider = {
    nextStepMs: summary(nextStep),
    farJumpMs: summary(jumps),
    floorFetchAndDecodeStoredFileMs: summary(floor.stored),
    fetchAndDecodeScaledCopyMs: summary(floor.scaled),
  };

  // Hover on a distribution: the redraw.
  await page.evaluate(() => performance.clearMarks('larder:distribution-drawn'));
  const canvas = await page.locator('.distribution canvas').first().boundingBox();
  for (let x = 0; x < 30; x++) await page.mouse.move(canvas.x + 60 + x * 10, canvas.y + 100);
  const hover = await page.evaluate(() =>
    performance.getEntriesByName('larder:distribution-drawn').map((mark) => mark.detail.ms),
  );
  result.distributionHoverRedrawMs = summary(hover);
  await context.close();
} finally {
  await browser.close();
  await stop();
}
console.log(JSON.stringify(result, null, 2));
