/**
 * The datalake through the SDK (`Datalake`) against a real `larder serve`:
 * - upload of a folder of small pictures (files/s; the server inspects each and makes its
 *   thumbnail), then the same folder again, counting the requests and bytes the SDK sends;
 * - a version of those pictures with labels and many annotations: its COCO export (seconds)
 *   and its download into an empty folder (MB/s, files/s);
 * - the lake filled up with small data files to the asset count, then a tag query (every
 *   asset carrying two tags, as `pictures.list({ tags })` asks it), p95 over varied tags,
 *   each answer checked against the known tag pattern.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { countingFetch } from '../measure/counting-fetch.mjs';
import { round, summarizeLatencies } from '../measure/percentiles.mjs';
import { folderBytes } from '../measure/process-writes.mjs';
import { startLarder } from '../servers/larder-server.mjs';
import { addFillerAssets, annotateVersion, expectedMatches, GROUPS, KINDS } from '../workloads/datalake-fill.mjs';
import { makePictureFolder } from '../workloads/picture-folder.mjs';

const CLIENT = pathToFileURL(new URL('../../packages/client/dist/index.js', import.meta.url).pathname).href;
const TAG_QUERIES = 50;
const DATASET = 'bench';

async function timed(work) {
  const started = performance.now();
  const answer = await work();
  return { answer, seconds: (performance.now() - started) / 1000 };
}

async function uploads(lake, counter, folder, pictures, log) {
  log(`datalake: uploading ${pictures.count} pictures, then the same folder again`);
  const started = performance.now();
  let blobsSeconds = 0;
  // The files are sent first, then made pictures (inspected, thumbnailed) 200 per call.
  const onProgress = ({ done, total }) => {
    if (done === total) blobsSeconds = (performance.now() - started) / 1000;
  };
  const first = await timed(() => lake.pictures.upload(folder, { tags: ['bench-picture'], onProgress }));
  if (first.answer.length !== pictures.count)
    throw new Error(`${first.answer.length} pictures made, not ${pictures.count}`);
  counter.reset();
  const second = await timed(() => lake.pictures.upload(folder, { tags: ['bench-picture'] }));
  const sent = counter.totals();
  const sameIds = second.answer.every((picture, index) => picture._id === first.answer[index]?._id);
  if (!sameIds) throw new Error('The second upload answered other pictures than the first');
  return {
    ids: first.answer.map((picture) => picture._id),
    upload: {
      files: pictures.count,
      bytes: pictures.bytes,
      seconds: round(first.seconds, 3),
      filesSentSeconds: round(blobsSeconds, 3),
      filesPerSec: Math.round(pictures.count / first.seconds),
      mbPerSec: round(pictures.bytes / 1e6 / first.seconds),
    },
    uploadAgain: {
      seconds: round(second.seconds, 3),
      // PUT bodies are picture bytes; POST bodies are the JSON of the asset calls.
      pictureBytesSent: sent.byMethod.PUT?.bodyBytes ?? 0,
      requests: sent.requests,
      bodyBytes: sent.bodyBytes,
      byMethod: sent.byMethod,
    },
  };
}

async function version(lake, ids, annotations, tempRoot, pictures, log) {
  log(`datalake: a version of ${ids.length} pictures with ${annotations} annotations; COCO export, download`);
  const created = await lake.datasets.create({ name: DATASET, pictures: ids });
  if (annotations > 0) await annotateVersion(lake.store, created.versionId, ids, annotations);
  const path = `${DATASET}/${created.version}`;
  const figures = {};
  if (annotations > 0) {
    const coco = await timed(() => lake.dlAnnotations('all', { dataset: path }));
    if (coco.answer.annotations.length !== annotations || coco.answer.images.length !== ids.length) {
      throw new Error(
        `The COCO export holds ${coco.answer.annotations.length} annotations and ${coco.answer.images.length} images`,
      );
    }
    figures.cocoExport = { annotations, images: ids.length, seconds: round(coco.seconds, 3) };
  }
  const folder = join(tempRoot, 'datalake-download');
  const download = await timed(() => lake.datasets.download({ dataset: path, folder }));
  // Counted from the folder: the report's `bytes` is summed by parallel workers and comes short.
  const written = await folderBytes(folder);
  if (download.answer.files !== ids.length || written.files !== ids.length || written.bytes !== pictures.bytes) {
    throw new Error(
      `The download wrote ${written.files} files, ${written.bytes} bytes: ${JSON.stringify(download.answer)}`,
    );
  }
  await rm(folder, { recursive: true, force: true });
  figures.download = {
    files: ids.length,
    bytes: written.bytes,
    reportedBytes: download.answer.bytes,
    seconds: round(download.seconds, 3),
    mbPerSec: round(written.bytes / 1e6 / download.seconds),
    filesPerSec: Math.round(ids.length / download.seconds),
  };
  return figures;
}

async function tagQuery(lake, url, pictureCount, assets, log) {
  const filler = Math.max(0, assets - pictureCount);
  log(`datalake: adding ${filler} small data files to reach ${assets} assets, then ${TAG_QUERIES} tag queries`);
  await addFillerAssets(url, filler);
  const samples = [];
  let matched = 0;
  for (let query = 0; query < TAG_QUERIES; query += 1) {
    const group = query % GROUPS;
    const kind = (query * 3) % KINDS;
    const { answer, seconds } = await timed(() => lake.pictures.list({ tags: [`group-${group}`, `kind-${kind}`] }));
    const expected = expectedMatches(filler, group, kind);
    if (answer.length !== expected) throw new Error(`A tag query found ${answer.length} assets, not ${expected}`);
    samples.push(seconds * 1000);
    matched += answer.length;
  }
  return {
    assets: pictureCount + filler,
    meanMatches: Math.round(matched / TAG_QUERIES),
    ...summarizeLatencies(samples),
  };
}

/**
 * @param {{ datalakePictures: number, datalakeAssets: number, datalakeAnnotations: number }} config
 * @returns {Promise<object>} the datalake figures
 */
export async function benchDatalake(tempRoot, config, log) {
  const { Datalake } = await import(CLIENT);
  const folder = join(tempRoot, 'datalake-pictures');
  log(`datalake: making ${config.datalakePictures} pictures with sharp`);
  const pictures = await makePictureFolder(folder, config.datalakePictures);
  const server = await startLarder(join(tempRoot, 'datalake-data'));
  const counter = countingFetch();
  const lake = new Datalake({
    url: server.url,
    credentialsFile: join(tempRoot, 'no-credentials.json'),
    fetch: counter.fetch,
  });
  try {
    const { ids, ...transfer } = await uploads(lake, counter, folder, pictures, log);
    const versionFigures = await version(lake, ids, config.datalakeAnnotations, tempRoot, pictures, log);
    const query =
      config.datalakeAssets > 0 ? await tagQuery(lake, server.url, ids.length, config.datalakeAssets, log) : undefined;
    return { available: true, pictureBytes: pictures.bytes, ...transfer, ...versionFigures, tagQuery: query };
  } finally {
    await lake.close();
    await server.stop();
    await rm(folder, { recursive: true, force: true });
  }
}
