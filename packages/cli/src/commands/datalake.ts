/**
 * The datalake from the command line:
 * - `larder pictures upload|ls|tag|rm` (also spelled `larder datalake …`): pictures with tags;
 * - `larder datasets ls|create|version|publish|import-coco|export-coco|download`: versioned
 *   datasets, COCO in and out, downloads that resume and verify every file.
 */
import { writeFile } from 'node:fs/promises';
import { Datalake, type Picture, splitDatasetPath, type TransferProgress } from '@larder/client';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { connect } from './connection.js';

async function openLake(program: Command): Promise<Datalake> {
  const connection = await connect(program);
  await connection.store.close();
  return new Datalake({ url: connection.url, ...(connection.token ? { token: connection.token } : {}) });
}

/** Runs `work` with a datalake connection, closed afterwards. */
async function withLake(program: Command, work: (lake: Datalake) => Promise<void>): Promise<void> {
  const lake = await openLake(program);
  try {
    await work(lake);
  } finally {
    await lake.close();
  }
}

/** A progress line on a terminal, nothing when output is piped. */
function progressLine(label: string) {
  let last = 0;
  return ({ done, total }: TransferProgress) => {
    if (!process.stderr.isTTY || (Date.now() - last < 200 && done < total)) return;
    last = Date.now();
    process.stderr.write(`\r${label} ${done}/${total}`);
    if (done >= total) process.stderr.write('\n');
  };
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function pictureLine(picture: Picture): string {
  const size = picture.width !== undefined ? `${picture.width}x${picture.height}` : '-';
  return [picture._id, picture.filename, size, picture.tags.join(',') || '-'].join('\t');
}

function registerPictures(program: Command): void {
  const pictures = program
    .command('pictures')
    .alias('datalake')
    .description('pictures of the datalake: upload, list, tag, delete');

  pictures
    .command('upload <paths...>')
    .description('upload files or folders of pictures (bytes the server holds are not sent again)')
    .option('--tag <tag>', 'tag the pictures (repeatable)', collect, [])
    .option('--source <source>', 'where the pictures come from', 'cli')
    .action(async (paths: string[], options: { tag: string[]; source: string }) => {
      await withLake(program, async (lake) => {
        const uploaded = await lake.pictures.upload(paths, {
          tags: options.tag,
          source: options.source,
          onProgress: progressLine('uploading'),
        });
        console.log(`uploaded ${uploaded.length} pictures`);
      });
    });

  pictures
    .command('ls')
    .description('list pictures: id, file name, size, tags (tab-separated)')
    .option('--tag <tag>', 'only pictures carrying this tag (repeatable: all of them)', collect, [])
    .option('--any-tag <tag>', 'only pictures carrying any of these tags (repeatable)', collect, [])
    .option('--name <filename>', 'only pictures with this file name')
    .option('--json', 'print JSON')
    .action(async (options: { tag: string[]; anyTag: string[]; name?: string; json?: boolean }) => {
      await withLake(program, async (lake) => {
        const found = await lake.pictures.list({
          tags: options.tag,
          anyTags: options.anyTag,
          ...(options.name !== undefined ? { filename: options.name } : {}),
        });
        if (options.json) console.log(JSON.stringify(found, null, 2));
        else for (const picture of found) console.log(pictureLine(picture));
      });
    });

  pictures
    .command('tag <ids...>')
    .description('add or remove tags on pictures')
    .option('--add <tag>', 'tag to add (repeatable)', collect, [])
    .option('--remove <tag>', 'tag to remove (repeatable)', collect, [])
    .action(async (ids: string[], options: { add: string[]; remove: string[] }) => {
      if (options.add.length === 0 && options.remove.length === 0) throw new CliError('Give --add or --remove tags');
      await withLake(program, async (lake) => {
        let changed = 0;
        if (options.add.length > 0) changed = await lake.pictures.addTags(options.add, ids);
        if (options.remove.length > 0) changed = Math.max(changed, await lake.pictures.removeTags(options.remove, ids));
        console.log(`tagged ${changed} pictures`);
      });
    });

  pictures
    .command('rm <ids...>')
    .description('delete pictures (refused for pictures of a published dataset version)')
    .action(async (ids: string[]) => {
      await withLake(program, async (lake) => {
        console.log(`deleted ${await lake.pictures.delete(ids)} pictures`);
      });
    });
}

function registerDatasets(program: Command): void {
  const datasets = program.command('datasets').description('versioned datasets of pictures, COCO in and out');

  datasets
    .command('ls')
    .description('list dataset versions: name/version, pictures, state')
    .action(async () => {
      await withLake(program, async (lake) => {
        for (const each of await lake.datasets.list()) {
          console.log(`${each.name}/${each.version}\t${each.size}\t${each.published ? 'published' : 'draft'}`);
        }
      });
    });

  datasets
    .command('create <name>')
    .description('create a dataset whose first version holds the pictures carrying the given tags')
    .option('--tag <tag>', 'add the pictures carrying this tag (repeatable: all of them)', collect, [])
    .option('--description <text>', 'what the dataset is', '')
    .option('--public', 'let every signed-in user read it')
    .action(async (name: string, options: { tag: string[]; description: string; public?: boolean }) => {
      await withLake(program, async (lake) => {
        const pictures = options.tag.length > 0 ? await lake.pictures.list({ tags: options.tag }) : [];
        const created = await lake.datasets.create({
          name,
          description: options.description,
          private: !options.public,
          pictures,
        });
        console.log(`created ${created.name}/${created.version} with ${created.size} pictures`);
      });
    });

  datasets
    .command('version <name> <version>')
    .description('create a version derived from another (default: the latest)')
    .option('--from <version>', 'the version to derive from')
    .option('--empty', 'start empty instead of deriving')
    .option('--tag <tag>', 'also add the pictures carrying this tag (repeatable)', collect, [])
    .action(async (name: string, version: string, options: { from?: string; empty?: boolean; tag: string[] }) => {
      await withLake(program, async (lake) => {
        const pictures = options.tag.length > 0 ? await lake.pictures.list({ tags: options.tag }) : undefined;
        const created = await lake.datasets.newVersion({
          name,
          version,
          fromVersion: options.empty ? null : (options.from ?? 'latest'),
          ...(pictures ? { pictures } : {}),
        });
        console.log(`created ${created.name}/${created.version} with ${created.size} pictures`);
      });
    });

  datasets
    .command('publish <dataset>')
    .description('publish name/version: it will never change again')
    .action(async (path: string) => {
      await withLake(program, async (lake) => {
        const [name, version] = splitDatasetPath(path);
        const published = await lake.datasets.publish({ name, ...(version ? { version } : {}) });
        console.log(`published ${published.name}/${published.version}`);
      });
    });

  datasets
    .command('import-coco <dataset> <file>')
    .description('import COCO annotations onto name/version, matching pictures by file name')
    .option('--images <folder>', 'upload the pictures of this folder first')
    .option('--tag <tag>', 'tag the uploaded pictures (repeatable)', collect, [])
    .option('--status <status>', 'review status of the imported annotations', 'accepted')
    .action(async (path: string, file: string, options: { images?: string; tag: string[]; status: string }) => {
      if (!['pending', 'accepted', 'rejected'].includes(options.status)) {
        throw new CliError('--status is pending, accepted or rejected');
      }
      await withLake(program, async (lake) => {
        if (options.images) await lake.pictures.upload(options.images, { tags: options.tag, source: 'cli' });
        const report = await lake.importCoco({
          dataset: path,
          path: file,
          status: options.status as 'pending' | 'accepted' | 'rejected',
        });
        console.log(
          `matched ${report.matched} of ${report.images} images; created ${report.annotations} annotations and ${report.labelsCreated} labels`,
        );
        if (report.unmatched.length > 0) console.error(`no picture named: ${report.unmatched.slice(0, 10).join(', ')}`);
      });
    });

  datasets
    .command('export-coco <dataset>')
    .description("write name/version's annotations as COCO JSON")
    .option('--accepted', 'only accepted annotations')
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .action(async (path: string, options: { accepted?: boolean; output?: string }) => {
      await withLake(program, async (lake) => {
        const coco = await lake.dlAnnotations(options.accepted ? 'accepted' : 'all', { dataset: path });
        const text = JSON.stringify(coco);
        if (options.output) {
          await writeFile(options.output, text);
          console.error(
            `wrote ${coco.images.length} images and ${coco.annotations.length} annotations to ${options.output}`,
          );
        } else console.log(text);
      });
    });

  datasets
    .command('download <dataset> [folder]')
    .description('download the pictures of name/version (parallel, resumable, verified)')
    .option('--parallel <n>', 'files at once', '8')
    .action(async (path: string, folder: string | undefined, options: { parallel: string }) => {
      const concurrency = Number(options.parallel);
      if (!Number.isInteger(concurrency) || concurrency < 1)
        throw new CliError('--parallel must be a whole number above 0');
      await withLake(program, async (lake) => {
        const started = Date.now();
        const report = await lake.datasets.download({
          dataset: path,
          ...(folder ? { folder } : {}),
          concurrency,
          onProgress: progressLine('downloading'),
        });
        const seconds = (Date.now() - started) / 1000;
        console.log(
          `${report.files} files (${report.skipped} already there), ${(report.bytes / 1024 / 1024).toFixed(1)} MiB in ${seconds.toFixed(1)} s`,
        );
      });
    });
}

export function registerDatalake(program: Command): void {
  registerPictures(program);
  registerDatasets(program);
}
