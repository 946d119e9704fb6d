/**
 * `larder stock init|status|commit|log|diff|ls|checkout|fsck|push|pull`: versioned models, data and
 * tags in a stock repository next to the code (`head.stock` committed to git, objects in
 * `.stock/`). All but `push` and `pull` are local; those two exchange commits with a
 * repository on a Larder server, sending only the objects the other side lacks.
 */
import { LarderError } from '@larder/protocol';
import {
  type CommitInfo,
  HttpStockRemote,
  initStock,
  pullStock,
  pushStock,
  StockRoom,
  type TransferProgress,
  type TreeDiff,
} from '@larder/stock';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { connect } from './connection.js';

interface StockOptions {
  path?: string;
}

export function registerStock(program: Command): void {
  const stock = program
    .command('stock')
    .description('version model weights, data samples and tags next to your code')
    .option('-C, --path <dir>', 'the stock repository (default: the nearest head.stock above this directory)');

  const open = (commit?: string): StockRoom => {
    const { path } = stock.opts<StockOptions>();
    return new StockRoom({ ...(path === undefined ? {} : { path }), ...(commit === undefined ? {} : { commit }) });
  };

  stock
    .command('init [dir]')
    .description('make a directory (default: the current one) a stock repository')
    .action(
      clearly(async (dir: string | undefined) => {
        const result = await initStock(dir ?? stock.opts<StockOptions>().path ?? process.cwd());
        console.log(result.message);
      }),
    );

  stock
    .command('status')
    .description('list the changes staged since the commit in head.stock')
    .action(
      clearly(async () => {
        const lines = diffLines(await open().status());
        console.log(lines.length === 0 ? 'Nothing staged.' : lines.join('\n'));
      }),
    );

  stock
    .command('commit')
    .description('record the staged changes and move head.stock to the new commit')
    .requiredOption('-m, --message <message>', 'what changed')
    .option('--no-update-head', 'leave head.stock where it is (check the commit out later by its id)')
    .action(
      clearly(async (options: { message: string; updateHead: boolean }) => {
        const room = open();
        const staged = diffLines(await room.status());
        const id = await room.commit(options.message, { updateHead: options.updateHead });
        console.log(`Committed ${id} (${staged.length} ${staged.length === 1 ? 'change' : 'changes'})`);
        if (options.updateHead) console.error(`Commit head.stock with your code to tie this data to it.`);
        else console.error(`head.stock was not moved; "larder stock checkout ${id}" moves it there.`);
      }),
    );

  stock
    .command('log')
    .description('list commits from head.stock back to the first')
    .option('-n, --max-count <count>', 'show at most this many commits')
    .action(
      clearly(async (options: { maxCount?: string }) => {
        const limit = options.maxCount === undefined ? undefined : Number(options.maxCount);
        if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
          throw new CliError(`--max-count takes a positive whole number, not "${options.maxCount}"`);
        }
        const commits = await open().log(limit === undefined ? {} : { limit });
        if (commits.length === 0) console.log('No stock commits yet.');
        for (const commit of commits) console.log(logLine(commit));
      }),
    );

  stock
    .command('diff <from> <to>')
    .description('list what was added (+), deleted (-) and changed (~) between two commits')
    .action(
      clearly(async (from: string, to: string) => {
        const { storages } = await open().diff(from, to);
        const lines = diffLines(storages);
        console.log(lines.length === 0 ? 'No differences.' : lines.join('\n'));
      }),
    );

  stock
    .command('ls [commit]')
    .description('list the models, data columns and tags of a commit (default: head.stock)')
    .action(
      clearly(async (commit: string | undefined) => {
        const head = open();
        const id = commit === undefined ? await head.head() : await head.resolve(commit);
        if (id === undefined) {
          console.log('No stock commits yet.');
          return;
        }
        // A read-only view of that commit: listing never takes the write lock or shows staged changes.
        const lines = await listing(open(id));
        console.log(lines.length === 0 ? `Commit ${id.slice(0, 12)} holds nothing.` : lines.join('\n'));
      }),
    );

  stock
    .command('checkout <commit>')
    .description('point head.stock at another commit (staged changes stay staged)')
    .action(
      clearly(async (commit: string) => {
        const room = open();
        const id = await room.checkout(commit);
        const [info] = await room.log({ from: id, limit: 1 });
        console.log(`head.stock now names ${id.slice(0, 12)}: ${info?.message ?? ''}`);
        const staged = diffLines(await room.status());
        if (staged.length > 0) console.error(`${staged.length} staged changes will apply on top of it.`);
      }),
    );

  stock
    .command('fsck')
    .description('check every object (packs against their names and indexes, each object against its id)')
    .option('--repair', 'rebuild missing or damaged pack indexes, set damaged packs aside, remove unfinished files')
    .action(
      clearly(async (options: { repair?: boolean }) => {
        const report = await open().objects.check({ repair: options.repair === true });
        for (const line of report.repaired) console.log(`repaired: ${line}`);
        for (const line of report.problems) console.error(line);
        console.log(
          `${report.packs} packs (${report.objects} objects) and ${report.loose} loose objects checked: ${report.problems.length === 0 ? 'all sound' : `${report.problems.length} problems`}`,
        );
        if (report.problems.length > 0 && !options.repair) {
          throw new CliError('Run "larder stock fsck --repair" to rebuild what can be rebuilt.');
        }
      }),
    );

  stock
    .command('push')
    .description("send head.stock's commit and its history to a repository on the server (only missing objects go)")
    .option(
      '--repo <name>',
      "the server repository (default: the last one used, else this directory's name); created if missing",
    )
    .option('--ref <name>', 'the branch to move on the server', 'main')
    .option('-f, --force', "replace the server's branch even when that drops commits from it")
    .action(
      clearly(async (options: { repo?: string; ref: string; force?: boolean }) => {
        const room = open();
        const remote = await remoteFor(program);
        try {
          const result = await pushStock(room, remote, {
            repo: options.repo,
            ref: options.ref,
            force: options.force ?? false,
            onProgress: progressLine('pushing'),
          });
          const name = result.repository.name;
          if (result.created) console.error(`Created the private repository ${name} on ${remote.location}`);
          if (result.upToDate) {
            console.log(`Everything up to date: ${name} "${result.ref}" is at ${short(result.commit)}`);
            return;
          }
          console.log(
            `Pushed ${count(result.commits, 'commit')} to ${name} "${result.ref}" (${short(result.previous)} -> ${short(result.commit)}): ${count(result.objects, 'object')}, ${megabytes(result.bytes)} sent${result.forced ? ' (forced)' : ''}`,
          );
        } finally {
          await remote.close();
        }
      }),
    );

  stock
    .command('pull')
    .description("fetch a server repository's commits (only missing objects come) and move head.stock to them")
    .option('--repo <name>', "the server repository (default: the last one used, else this directory's name)")
    .option('--ref <name>', 'the branch to fetch', 'main')
    .action(
      clearly(async (options: { repo?: string; ref: string }) => {
        const room = open();
        const remote = await remoteFor(program);
        try {
          const result = await pullStock(room, remote, {
            repo: options.repo,
            ref: options.ref,
            onProgress: progressLine('pulling'),
          });
          const name = result.repository.name;
          const fetched = `${count(result.commits, 'commit')}, ${count(result.objects, 'object')}, ${megabytes(result.bytes)}`;
          const server = short(result.remote);
          switch (result.status) {
            case 'empty':
              console.log(`${name} has no "${result.ref}" yet: nothing to pull`);
              break;
            case 'up-to-date':
              console.log(`Already up to date: head.stock names ${server}, like ${name} "${result.ref}"`);
              break;
            case 'fast-forward':
              console.log(`Pulled ${fetched} from ${name} "${result.ref}": head.stock now names ${server}`);
              console.error('Commit head.stock with your code to tie this data to it.');
              break;
            case 'ahead':
              console.log(
                `Fetched ${fetched}; head.stock (${short(result.head)}) already includes ${name} "${result.ref}" (${server}): push to share it`,
              );
              break;
            case 'diverged':
              throw new CliError(
                `head.stock (${short(result.head)}) and ${name} "${result.ref}" (${server}) have diverged, so head.stock was not moved (fetched ${fetched}). Take the server's with "larder stock checkout ${server}", or replace it with "larder stock push --force".`,
              );
          }
        } finally {
          await remote.close();
        }
      }),
    );
}

/** The server repository access for push and pull, from `--url`/`--token`, the environment or the credentials file. */
async function remoteFor(program: Command): Promise<HttpStockRemote> {
  const { url, token, store } = await connect(program);
  await store.close();
  return new HttpStockRemote({ url, token });
}

/** A progress line on a terminal (nothing when output is piped). */
function progressLine(label: string): (progress: TransferProgress) => void {
  let last = 0;
  return ({ objects, totalObjects, bytes, totalBytes }) => {
    const done = objects >= totalObjects;
    if (!process.stderr.isTTY || totalObjects === 0 || (Date.now() - last < 200 && !done)) return;
    last = Date.now();
    const size = totalBytes === undefined ? megabytes(bytes) : `${megabytes(bytes)} / ${megabytes(totalBytes)}`;
    process.stderr.write(`\r${label}: ${objects}/${totalObjects} objects, ${size}\x1b[K`);
    if (done) process.stderr.write('\n');
  };
}

function short(id: string | null | undefined): string {
  return id ? id.slice(0, 12) : '(none)';
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Turns the library's errors (user mistakes with a sentence already) into CLI errors. */
function clearly<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      await action(...args);
    } catch (error) {
      if (error instanceof LarderError && error.code < 500) throw new CliError(error.message);
      throw error;
    }
  };
}

function logLine(commit: CommitInfo): string {
  const time = commit.time.replace('T', ' ').slice(0, 19);
  return `${commit.id.slice(0, 12)}  ${time}  ${commit.author}  ${commit.message}`;
}

function diffLines(diff: TreeDiff): string[] {
  const lines: string[] = [];
  for (const [storage, changes] of Object.entries(diff)) {
    for (const key of changes.added) lines.push(`+ ${storage}/${key}`);
    for (const key of changes.deleted) lines.push(`- ${storage}/${key}`);
    for (const key of changes.mutated) lines.push(`~ ${storage}/${key}`);
  }
  return lines;
}

async function listing(room: StockRoom): Promise<string[]> {
  const rows: [string, string, string][] = [];
  return room.optimize(async () => {
    for (const name of await room.model.keys()) {
      const info = await room.model.describe(name);
      const version = info.frameworkVersion === '' ? '' : ` ${info.frameworkVersion}`;
      const count = `${info.tensors.length} ${info.tensors.length === 1 ? 'tensor' : 'tensors'}`;
      rows.push(['model', name, `${info.framework}${version}, ${count} (${info.layout})`]);
    }
    for (const column of await room.data.columns()) {
      const samples = (await room.data.keys(column)).length;
      rows.push([
        'data',
        column,
        `${samples} ${samples === 1 ? 'sample' : 'samples'}, ${await room.data.dtype(column)}`,
      ]);
    }
    for (const [key, tag] of await room.tag.entries()) rows.push(['tag', key, `${String(tag.value)} (${tag.type})`]);
    const width = Math.max(0, ...rows.map(([, name]) => name.length));
    return rows.map(([storage, name, detail]) => `${storage.padEnd(5)}  ${name.padEnd(width)}  ${detail}`);
  });
}
