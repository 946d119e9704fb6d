/**
 * Runs and artifacts from the terminal:
 * - `larder runs ls [--folder] [--where <json>] [--sort <field>] [--columns a,b] [--limit n]`
 * - `larder runs show <run>` and `larder runs rm <run>` (a run is an id, a name, or a path:
 *   `/<owner>/<folder>/<name>`, or `<folder>/<name>` from your home)
 * - `larder upload <path> [--folder] [--make-folder] [--conflict skip|error|new|replace]`
 * - `larder download <run-or-artifact> <dir>`
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { type DataStore, upload } from '@larder/client';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { progressLine } from '../terminal/progress-line.js';
import { formatTable } from '../terminal/table.js';
import { connect } from './connection.js';
import { findRecord, type RecordLike, requireRecord } from './record-reference.js';

const CONFLICTS = ['skip', 'error', 'new', 'replace'];

/** The value at a dotted path, for table columns. */
function at(record: unknown, path: string): unknown {
  let value: unknown = record;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function show(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

export function registerRuns(program: Command): void {
  const runs = program.command('runs').description('list, inspect and remove runs');

  runs
    .command('ls')
    .description('list runs as a table')
    .option('--folder <path>', 'only runs in this folder (e.g. /ada@example.org/mnist)')
    .option('--where <json>', 'a query, e.g. \'{"hparams.lr":{"$lt":0.1},"status":"Complete"}\'')
    .option(
      '--sort <field>',
      'sort on a field, "-" first for descending (e.g. -metrics.val.accuracy.last)',
      '-createdAt',
    )
    .option('--columns <fields>', 'extra columns, comma-separated (e.g. hparams.lr,metrics.val.accuracy.last)')
    .option('--limit <n>', 'at most this many runs', '50')
    .action(async (options: { folder?: string; where?: string; sort: string; columns?: string; limit: string }) => {
      let where: Record<string, unknown> = {};
      if (options.where) {
        try {
          where = JSON.parse(options.where) as Record<string, unknown>;
        } catch {
          throw new CliError('--where must be a JSON object, e.g. \'{"status":"Complete"}\'');
        }
        if (where === null || typeof where !== 'object' || Array.isArray(where))
          throw new CliError('--where must be a JSON object');
      }
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new CliError('--limit must be a positive whole number');
      const descending = options.sort.startsWith('-');
      const sortField = options.sort.replace(/^[-+]/, '');
      const extra = options.columns
        ? options.columns
            .split(',')
            .map((column) => column.trim())
            .filter(Boolean)
        : [];
      const { store } = await connect(program);
      try {
        const query = {
          ...where,
          ...(options.folder ? { folder: options.folder } : {}),
          $sort: { [sortField]: descending ? -1 : 1 },
          $limit: Math.min(limit, 1000),
        };
        const page = (await store.service<RecordLike>('runs').find({ query })) as { total: number; data: RecordLike[] };
        const headers = ['ID', 'NAME', 'FOLDER', 'STATUS', 'STARTED', ...extra.map((column) => column.toUpperCase())];
        const rows = page.data.map((run) => [
          run._id,
          show(run.name),
          show(run.folder),
          show(run.status),
          show(run.startTime).replace('T', ' ').slice(0, 19),
          ...extra.map((column) => show(at(run, column))),
        ]);
        console.log(formatTable(headers, rows));
        if (page.total > page.data.length)
          console.error(`(${page.data.length} of ${page.total} runs; use --limit or --where)`);
      } finally {
        await store.close();
      }
    });

  runs
    .command('show <run>')
    .description('show a run: status, hparams, metric summaries, files, associations')
    .action(async (reference: string) => {
      const connection = await connect(program);
      const { store } = connection;
      try {
        const run = await requireRecord(connection, 'runs', reference, 'run');
        const lines = [
          `${show(run.name)}  (${run._id})`,
          `folder     ${show(run.folder)}`,
          `status     ${show(run.status)}`,
          `started    ${show(run.startTime)}${run.endTime ? `, ended ${show(run.endTime)}` : ''}`,
        ];
        if (Array.isArray(run.labels) && run.labels.length > 0) lines.push(`labels     ${run.labels.join(', ')}`);
        if (run.description) lines.push(`about      ${show(run.description)}`);
        console.log(lines.join('\n'));
        const hparams = Object.entries((run.hparams ?? {}) as Record<string, unknown>);
        if (hparams.length > 0)
          console.log(
            `\nhparams\n${formatTable(
              ['NAME', 'VALUE'],
              hparams.map(([key, value]) => [key, show(value)]),
            )}`,
          );
        const summaries: string[][] = [];
        for (const [type, byName] of Object.entries(
          (run.metrics ?? {}) as Record<string, Record<string, Record<string, unknown>>>,
        )) {
          for (const [name, summary] of Object.entries(byName)) {
            summaries.push([
              type,
              name,
              show(summary.last),
              show(summary.min),
              show(summary.max),
              show(summary.count),
              show(summary.step),
            ]);
          }
        }
        if (summaries.length > 0)
          console.log(`\nmetrics\n${formatTable(['TYPE', 'NAME', 'LAST', 'MIN', 'MAX', 'POINTS', 'STEP'], summaries)}`);
        const files = Object.entries((run.files ?? {}) as Record<string, { size?: number }>);
        if (files.length > 0)
          console.log(
            `\nfiles\n${formatTable(
              ['NAME', 'BYTES'],
              files.map(([name, file]) => [name, show(file?.size)]),
            )}`,
          );
        const associations = (run.associations ?? {}) as {
          inputs?: { kind: string; id: string }[];
          outputs?: { kind: string; id: string }[];
        };
        const links = [
          ...(associations.inputs ?? []).map((node) => ['input', node.kind, node.id]),
          ...(associations.outputs ?? []).map((node) => ['output', node.kind, node.id]),
        ];
        if (links.length > 0) console.log(`\nassociations\n${formatTable(['ROLE', 'KIND', 'ID'], links)}`);
      } finally {
        await store.close();
      }
    });

  runs
    .command('rm <run>')
    .description('remove a run and its metric points')
    .action(async (reference: string) => {
      const connection = await connect(program);
      const { store } = connection;
      try {
        const run = await requireRecord(connection, 'runs', reference, 'run');
        await store.service('runs').remove(run._id);
        console.error(`Removed run ${show(run.folder)}/${show(run.name)} (${run._id})`);
      } finally {
        await store.close();
      }
    });

  program
    .command('upload <path>')
    .description('upload a local run or artifact directory, or every one in a parent directory')
    .option('--folder <path>', "server folder, relative paths from your home (default: the run's own, else default)")
    .option('--make-folder', 'create the folder and its parents when missing (default: as the run was created)')
    .option(
      '--conflict <strategy>',
      `when the name is taken: ${CONFLICTS.join(', ')} (default: the run's own, else new)`,
    )
    .action(async (path: string, options: { folder?: string; makeFolder?: boolean; conflict?: string }) => {
      if (options.conflict !== undefined && !CONFLICTS.includes(options.conflict))
        throw new CliError(`--conflict must be one of ${CONFLICTS.join(', ')}`);
      const { url, token } = await connect(program);
      // One progress line per run, over the bytes of its metric log.
      const lines = new Map<string, ReturnType<typeof progressLine>>();
      // Only what was typed: a run keeps the folder, make-folder and conflict choice it was created with.
      const results = await upload(path, {
        ...(options.folder !== undefined ? { folder: options.folder } : {}),
        ...(options.makeFolder !== undefined ? { makeFolder: options.makeFolder } : {}),
        ...(options.conflict !== undefined ? { conflictStrategy: options.conflict as 'new' } : {}),
        connection: { url, ...(token ? { token } : {}) },
        onProgress: ({ directory, bytesRead, bytesTotal }) => {
          let line = lines.get(directory);
          if (!line) {
            line = progressLine(`uploading ${directory.split(sep).pop() ?? directory}`);
            lines.set(directory, line);
          }
          line({ sent: bytesRead, total: bytesTotal });
        },
      });
      const rows = results.map(({ kind, local, result, error }) => [
        kind,
        local.split(sep).pop() ?? local,
        result?.id ?? '',
        error ? 'failed' : result?.skipped ? 'skipped' : result?.created ? 'uploaded' : 'up to date',
        show(result?.pointsSent ?? ''),
      ]);
      console.log(formatTable(['KIND', 'LOCAL', 'ID', 'RESULT', 'POINTS SENT'], rows));
      const failed = results.filter((each) => each.error);
      for (const { local, error } of failed) console.error(`${local}: ${error?.message}`);
      if (failed.length > 0) {
        throw new CliError(`${failed.length} of ${results.length} could not be uploaded; the others were`);
      }
    });

  program
    .command('download <run-or-artifact> <dir>')
    .description('download a run (record, metric points, files) or an artifact (its objects) into a directory')
    .action(async (reference: string, directory: string) => {
      const connection = await connect(program);
      const { store } = connection;
      try {
        const run = await findRecord(connection, 'runs', reference);
        const target = resolve(directory);
        await mkdir(target, { recursive: true });
        if (run) await downloadRun(store, run, target);
        else {
          const artifact = await findRecord(connection, 'artifacts', reference);
          if (!artifact) throw new CliError(`No run or artifact ${reference} that you may see`);
          await downloadArtifact(store, artifact, target);
        }
      } finally {
        await store.close();
      }
    });
}

/** Keeps a downloaded path inside the target directory, whatever the server sent. */
function inside(root: string, relative: string): string {
  const path = resolve(root, relative);
  if (!path.startsWith(root + sep)) throw new CliError(`Refusing to write ${relative} outside ${root}`);
  return path;
}

async function downloadRun(store: DataStore, run: RecordLike, target: string): Promise<void> {
  await writeFile(join(target, 'run.json'), `${JSON.stringify(run, null, 2)}\n`);
  const series = (await store.service('metrics').find({ query: { run: run._id } })) as unknown as {
    type: string;
    name: string;
  }[];
  const metricsDir = join(target, 'metrics');
  for (const each of series) {
    const points = (await store.service('metrics').find({
      query: { run: run._id, type: each.type, name: each.name, raw: 'true', withTimes: 'true' },
    })) as unknown as { steps: number[]; values: (number | null)[]; epochs: (number | null)[]; times: number[] };
    const lines = ['step,value,epoch,time'];
    points.steps.forEach((step, index) => {
      lines.push(
        `${step},${points.values[index] ?? ''},${points.epochs[index] ?? ''},${new Date(points.times[index] as number).toISOString()}`,
      );
    });
    const file = inside(metricsDir, `${each.type}/${each.name}.csv`);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, `${lines.join('\n')}\n`);
  }
  const files = Object.entries((run.files ?? {}) as Record<string, { sha256: string; filename?: string }>);
  for (const [name, file] of files) {
    const path = inside(join(target, 'files'), file.filename ?? name);
    await mkdir(dirname(path), { recursive: true });
    await downloadTo(store, `/runs/${encodeURIComponent(run._id)}/files/${encodeURIComponent(name)}`, path);
  }
  console.error(`Wrote run ${String(run.name)}: ${series.length} metric series, ${files.length} files, in ${target}`);
}

async function downloadArtifact(store: DataStore, artifact: RecordLike, target: string): Promise<void> {
  const objects = (artifact.objects ?? []) as { path: string; sha256?: string; size?: number; uri?: string }[];
  const total = objects.reduce((sum, object) => sum + (object.size ?? 0), 0);
  const report = progressLine(`downloading ${String(artifact.name)}`);
  let done = 0;
  for (const object of objects.filter((each) => each.sha256)) {
    const path = inside(target, object.path);
    await mkdir(dirname(path), { recursive: true });
    const objectPath = object.path.split('/').map(encodeURIComponent).join('/');
    await downloadTo(store, `/artifacts/${encodeURIComponent(artifact._id)}/objects/${objectPath}`, path);
    done += object.size ?? 0;
    report({ sent: done, total });
  }
  const references = objects.filter((object) => object.uri);
  if (references.length > 0)
    await writeFile(join(target, 'references.json'), `${JSON.stringify(references, null, 2)}\n`);
  console.error(
    `Wrote artifact ${String(artifact.name)}: ${objects.length - references.length} files, ${references.length} references, in ${target}`,
  );
}

/** Streams a route's file to `path`, resuming by range after a break, verified by the SDK. */
async function downloadTo(store: DataStore, route: string, path: string): Promise<void> {
  await store.blobs.downloadRoute(route, path);
}
