/**
 * The datalake through the SDK (`Datalake`) against a real `larder serve`:
 * - upload of a folder of small pictures (pictures/s; the server reads each one's type and
 *   size), beside DVC doing the same job (`dvc add` + `dvc push` to a local remote), then
 *   the same folder again, counting the requests and bytes the SDK sends;
 * - the first view of a gallery page of thumbnails (made then) and the second (stored);
 * - a version of those pictures with labels and many annotations: its COCO export (seconds)
 *   and its download into an empty folder (MB/s, files/s), beside the raw disk writing the
 *   same files one by one and as one large file in the same run;
 * - the lake filled up with small data files to the asset count (through the upload route,
 *   or, above 100,000, written into the store directly), then a tag query through HTTP (every
 *   asset carrying two tags, as `pictures.list({ tags })` asks it), p95 over varied tags,
 *   each answer checked against the known tag pattern.
 *
 * Alone: `node bench/runs/datalake-bench.mjs` (the settings of `bench/config.mjs`), JSON on stdout.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { readConfig } from '../config.mjs';
import { countingFetch } from '../measure/counting-fetch.mjs';
import { round, summarizeLatencies } from '../measure/percentiles.mjs';
import { folderBytes } from '../measure/process-writes.mjs';
import { dvcAddAndPush, installDvc } from '../peers/dvc.mjs';
import { startLarder } from '../servers/larder-server.mjs';
import { bulkFillAssets } from '../workloads/datalake-bulk-fill.mjs';
import { addFillerAssets, annotateVersion, expectedMatches, groupsFor, KINDS } from '../workloads/datalake-fill.mjs';
import { measureDiskWrite } from '../workloads/disk-write.mjs';
import { makePictureFolder } from '../workloads/picture-folder.mjs';

const CLIENT = pathToFileURL(new URL('../../packages/client/dist/index.js', import.meta.url).pathname).href;
const TAG_QUERIES = 50;
/** A gallery page of thumbnails, fetched as a browser would (a few at once). */
const GALLERY_PAGE = 100;
const GALLERY_AT_ONCE = 6;
const DATASET = 'bench';

async function timed(work) {
  const started = performance.now();
  const answer = await work();
  return { answer, seconds: (performance.now() - started) / 1000 };
}

async function uploads(lake, counter, folder, pictures, log) {
  log(`datalake: uploading ${pictures.count} pictures, then the same folder again`);
  counter.reset();
  const first = await timed(() => lake.pictures.upload(folder, { tags: ['bench-picture'] }));
  if (first.answer.length !== pictures.count)
    throw new Error(`${first.answer.length} pictures made, not ${pictures.count}`);
  const firstSent = counter.totals();
  counter.reset();
  const second = await timed(() => lake.pictures.upload(folder, { tags: ['bench-picture'] }));
  const sent = counter.totals();
  const sameIds = second.answer.every((picture, index) => picture._id === first.answer[index]?._id);
  if (!sameIds) throw new Error('The second upload answered other pictures than the first');
  const sized = first.answer.filter((picture) => picture.width === 96 && picture.height === 96).length;
  if (sized !== pictures.count) throw new Error(`${sized} of ${pictures.count} pictures have their size read`);
  return {
    ids: first.answer.map((picture) => picture._id),
    upload: {
      files: pictures.count,
      bytes: pictures.bytes,
      seconds: round(first.seconds, 3),
      picturesPerSec: Math.round(pictures.count / first.seconds),
      filesPerSec: Math.round(pictures.count / first.seconds),
      mbPerSec: round(pictures.bytes / 1e6 / first.seconds),
      requests: firstSent.requests,
    },
    uploadAgain: {
      seconds: round(second.seconds, 3),
      // Picture bytes go up in multipart forms (and large files by PUT); the rest is JSON.
      pictureBytesSent: (sent.byMethod.PUT?.bodyBytes ?? 0) + sent.formFileBytes,
      requests: sent.requests,
      bodyBytes: sent.bodyBytes,
      byMethod: sent.byMethod,
    },
  };
}

/** The first view of a gallery page makes its thumbnails; the second serves the stored ones. */
async function gallery(url, ids, log) {
  const page = ids.slice(0, GALLERY_PAGE);
  log(`datalake: a gallery page of ${page.length} thumbnails, first view then second`);
  const view = async () => {
    let next = 0;
    let bytes = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: GALLERY_AT_ONCE }, async () => {
        while (next < page.length) {
          const response = await fetch(`${url}/assets/${page[next++]}/thumbnail`);
          if (response.status !== 200) throw new Error(`A thumbnail answered ${response.status}`);
          bytes += (await response.arrayBuffer()).byteLength;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return { seconds: round(seconds, 3), thumbnailsPerSec: Math.round(page.length / seconds), bytes };
  };
  const firstView = await view();
  const secondView = await view();
  return { thumbnails: page.length, firstView, secondView };
}

/** DVC doing the upload's job on the same folder, or why it did not run. */
async function dvcPeer(config, tempRoot, folder, pictures, log) {
  if (config.dvc === 'none') return { available: false, reason: 'skipped (BENCH_DVC=none)' };
  const installed = installDvc(log);
  if (!installed.ok) return { available: false, reason: installed.reason };
  log(`datalake: DVC add + push of the same ${pictures.count} pictures`);
  const run = await dvcAddAndPush(join(tempRoot, 'dvc'), folder, 'pictures');
  await rm(join(tempRoot, 'dvc'), { recursive: true, force: true });
  return {
    available: true,
    addSeconds: round(run.addSeconds, 3),
    pushSeconds: round(run.pushSeconds, 3),
    seconds: round(run.seconds, 3),
    picturesPerSec: Math.round(pictures.count / run.seconds),
  };
}

/**
 * The disk's own pace at what a download does: the same files written one by one (files/s)
 * and their bytes as one large fsynced file (MB/s), measured in this run.
 */
async function rawDisk(tempRoot, folder) {
  const names = await readdir(folder);
  const contents = await Promise.all(names.map((name) => readFile(join(folder, name))));
  const target = join(tempRoot, 'raw-small-files');
  await mkdir(target, { recursive: true });
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < names.length) {
        const index = next++;
        await writeFile(join(target, names[index]), contents[index]);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await rm(target, { recursive: true, force: true });
  const bytes = contents.reduce((sum, content) => sum + content.length, 0);
  const large = await measureDiskWrite(join(tempRoot, 'raw-disk-write.bin'), Math.max(bytes, 64 * 1024 * 1024));
  return {
    smallFiles: { files: names.length, seconds: round(seconds, 3), filesPerSec: Math.round(names.length / seconds) },
    largeFileMBps: large.mbPerSec,
  };
}

async function version(lake, ids, annotations, tempRoot, pictures, folderOfPictures, log) {
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
  // Again over the complete folder: every file is checked and none fetched.
  const again = await timed(() => lake.datasets.download({ dataset: path, folder }));
  if (again.answer.skipped !== ids.length) throw new Error(`The second download skipped ${again.answer.skipped} files`);
  await rm(folder, { recursive: true, force: true });
  const disk = await rawDisk(tempRoot, folderOfPictures);
  const filesPerSec = Math.round(ids.length / download.seconds);
  const mbPerSec = round(written.bytes / 1e6 / download.seconds);
  figures.download = {
    files: ids.length,
    bytes: written.bytes,
    reportedBytes: download.answer.bytes,
    seconds: round(download.seconds, 3),
    mbPerSec,
    filesPerSec,
    rawDisk: disk,
    ofRawSmallFileWrites: round(filesPerSec / disk.smallFiles.filesPerSec),
    ofRawDiskMBps: round(mbPerSec / disk.largeFileMBps),
    againSeconds: round(again.seconds, 3),
  };
  return figures;
}

/**
 * How the lake is filled for the tag query: `http` (the upload route, 1000 files a form) or
 * `store` (records written by the store adapter while the server is stopped: see
 * `datalake-bulk-fill.mjs`). BENCH_DATALAKE_FILL chooses; by default `http` up to 100,000
 * fillers and `store` above. The queries go through HTTP either way.
 */
function fillMode(filler) {
  const chosen = process.env.BENCH_DATALAKE_FILL;
  if (chosen === 'http' || chosen === 'store') return chosen;
  if (chosen) throw new Error(`BENCH_DATALAKE_FILL is "http" or "store", not "${chosen}"`);
  return filler > 100_000 ? 'store' : 'http';
}

/**
 * Where the datalake's server keeps its metadata: SQLite in its data folder, or, with
 * BENCH_DATALAKE_DB=postgres, a scratch database made from BENCH_POSTGRES_URL (dropped after).
 */
async function datalakeDatabase(log) {
  if (process.env.BENCH_DATALAKE_DB !== 'postgres') return { kind: 'sqlite', args: [], drop: async () => {} };
  const base = process.env.BENCH_POSTGRES_URL;
  if (!base) throw new Error('BENCH_DATALAKE_DB=postgres needs BENCH_POSTGRES_URL');
  const pg = (await import('pg')).default;
  const admin = async (sql) => {
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };
  const name = `larder_datalake_bench_${Date.now()}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  log(`datalake: metadata in PostgreSQL (${name})`);
  return {
    kind: 'postgres',
    url: url.toString(),
    args: ['--db', url.toString()],
    drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function assetNamed(url, filename) {
  const response = await fetch(`${url}/assets?filename=${encodeURIComponent(filename)}&$limit=1`);
  const [asset] = (await response.json()).data;
  if (!asset) throw new Error(`No asset ${filename}`);
  return asset;
}

/** Fills the lake to `assets`, then times tag queries through the SDK over HTTP. */
async function tagQuery({ lake, lakeAt, serving, database, dataDir, pictureCount, assets, log }) {
  let filler = Math.max(0, assets - pictureCount);
  const fill = filler > 0 ? fillMode(filler) : 'http';
  log(
    `datalake: adding ${filler} small data files (${fill}) to reach ${assets} assets, then ${TAG_QUERIES} tag queries`,
  );
  const started = performance.now();
  let queried = lake;
  let inLake = pictureCount;
  let startSeconds;
  if (fill === 'http') await addFillerAssets(serving.server.url, filler, groupsFor(filler));
  else {
    // One filler made by the upload route is the template of the others.
    await addFillerAssets(serving.server.url, 1, groupsFor(filler));
    const template = await assetNamed(serving.server.url, 'asset-0.txt');
    await serving.server.stop();
    let lakeDir = dataDir;
    if (database.kind === 'sqlite') {
      // On SQLite the queried lake is a new one of fillers alone, written before any server
      // opens it (plain inserts); the server indexes their tags when it starts, in bulk.
      lakeDir = join(dataDir, '..', 'datalake-tag-lake');
      filler = assets;
      inLake = 0;
      await bulkFillAssets({ dataDir: lakeDir, template, from: 0, to: filler, groups: groupsFor(filler), log });
    } else {
      // On PostgreSQL the fillers join the pictures; the trigger keeps their postings.
      await bulkFillAssets({
        dataDir,
        postgresUrl: database.url,
        template,
        from: 1,
        to: filler,
        groups: groupsFor(filler),
        log,
      });
    }
    const restart = await timed(() => startLarder(lakeDir, database.args, { timeoutMs: 3_600_000 }));
    serving.server = restart.answer;
    startSeconds = restart.seconds;
    queried = lakeAt(serving.server.url);
  }
  const groups = groupsFor(filler);
  const fillSeconds = (performance.now() - started) / 1000;
  const samples = [];
  let matched = 0;
  for (let query = 0; query < TAG_QUERIES; query += 1) {
    const group = query % groups;
    const kind = (query * 3) % KINDS;
    const { answer, seconds } = await timed(() => queried.pictures.list({ tags: [`group-${group}`, `kind-${kind}`] }));
    const expected = expectedMatches(filler, group, kind, groups);
    if (answer.length !== expected) throw new Error(`A tag query found ${answer.length} assets, not ${expected}`);
    samples.push(seconds * 1000);
    matched += answer.length;
  }
  if (queried !== lake) await queried.close();
  return {
    assets: inLake + filler,
    store: database.kind,
    fill,
    fillSeconds: round(fillSeconds, 1),
    // The server's start after the bulk fill, indexing the tags of the new lake on SQLite.
    ...(startSeconds === undefined ? {} : { startSeconds: round(startSeconds, 1) }),
    // Through the upload route only: the bulk fill writes the store directly.
    ...(fill === 'http' && filler > 0 ? { fillFilesPerSec: Math.round(filler / fillSeconds) } : {}),
    groups,
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
  const dataDir = join(tempRoot, 'datalake-data');
  // The tag query may restart the server (to fill the store directly): whichever runs is here.
  const database = await datalakeDatabase(log);
  const serving = { server: await startLarder(dataDir, database.args) };
  const counter = countingFetch();
  const credentialsFile = join(tempRoot, 'no-credentials.json');
  const lake = new Datalake({ url: serving.server.url, credentialsFile, fetch: counter.fetch });
  const lakeAt = (url) => new Datalake({ url, credentialsFile });
  try {
    const { ids, ...transfer } = await uploads(lake, counter, folder, pictures, log);
    const thumbnails = await gallery(serving.server.url, ids, log);
    const dvc = await dvcPeer(config, tempRoot, folder, pictures, log);
    if (dvc.available) dvc.larderUploadOfDvcSpeed = round(dvc.seconds / transfer.upload.seconds);
    const versionFigures = await version(lake, ids, config.datalakeAnnotations, tempRoot, pictures, folder, log);
    const query =
      config.datalakeAssets > 0
        ? await tagQuery({
            lake,
            lakeAt,
            serving,
            database,
            dataDir,
            pictureCount: ids.length,
            assets: config.datalakeAssets,
            log,
          })
        : undefined;
    return {
      available: true,
      pictureBytes: pictures.bytes,
      ...transfer,
      thumbnails,
      dvc,
      ...versionFigures,
      tagQuery: query,
    };
  } finally {
    await lake.close();
    await serving.server.stop();
    await database.drop();
    await rm(folder, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const tempRoot = await mkdtemp(join(tmpdir(), 'larder-datalake-bench-'));
  try {
    const figures = await benchDatalake(tempRoot, readConfig(), (line) => process.stderr.write(`${line}\n`));
    process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  } finally {
    await rm(tempRoot, { recursive: true, force: true });
  }
}
