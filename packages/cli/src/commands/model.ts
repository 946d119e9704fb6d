/**
 * `larder model …`: PMF model directories and the model registry.
 * - `validate <dir>` checks a directory and lists every offence (local);
 * - `push <dir>` sends a PMF model as a new version (only the files the server lacks);
 * - `pull <name>[:<version|alias>] <dir>` writes a version back as a PMF tree;
 * - `ls`, `show <name>[:<version|alias>]` and `alias <name> <alias> <version|alias>` inspect
 *   and move aliases.
 */
import { type ModelRecord, ModelRegistry, type ModelVersionRecord, parseModelReference } from '@larder/client';
import { formatOffence, validateModel } from '@larder/pmf';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { connect } from './connection.js';

export function registerModel(program: Command): void {
  const model = program.command('model').description('work with PMF (plums model format) models and the registry');

  model
    .command('validate <dir>')
    .description('check that a directory is a valid PMF model and list every offence')
    .option('--fast', 'skip the MD5 checks of the configuration, checkpoints and initialisation file')
    .option('--strict', 'check every MD5 (the default, as plums Model.load(strict=True))')
    .option('--verbose', 'show the offending values')
    .action(async (dir: string, options: { fast?: boolean; strict?: boolean; verbose?: boolean }) => {
      if (options.fast && options.strict) throw new CliError('Choose --fast or --strict, not both');
      const strict = !options.fast;
      const offences = await validateModel(dir, { strict });
      if (offences.length > 0) {
        for (const offence of offences) console.log(formatOffence(offence, options.verbose ?? false));
        const count = offences.length === 1 ? '1 offence' : `${offences.length} offences`;
        throw new CliError(`${dir} is not a valid PMF model (${count})`);
      }
      console.log(
        `OK: ${dir} is a valid PMF model${strict ? ' (checksums verified)' : ' (checksums not checked: --fast)'}`,
      );
    });

  /** Runs `work` with a registry on the configured server, closing it afterwards. */
  const withRegistry = async <T>(work: (registry: ModelRegistry) => Promise<T>): Promise<T> => {
    const { store, url, token } = await connect(program);
    const registry = new ModelRegistry({ store, url, token });
    try {
      return await work(registry);
    } finally {
      await store.close();
    }
  };

  model
    .command('push <dir>')
    .description('push a PMF model directory as a new version (only files the server lacks are sent)')
    .option('--name <name>', 'registry model to add the version to (default: the PMF model name)')
    .option('--alias <alias...>', 'aliases to point at the new version (latest moves by itself)')
    .option('--description <text>', 'what this version is')
    .option('--produced-by <runId...>', 'runs that produced this version')
    .action(
      async (
        dir: string,
        options: { name?: string; alias?: string[]; description?: string; producedBy?: string[] },
      ) => {
        const result = await withRegistry((registry) =>
          registry.pushVersion(dir, {
            ...(options.name ? { name: options.name } : {}),
            ...(options.alias ? { alias: options.alias } : {}),
            ...(options.description !== undefined ? { description: options.description } : {}),
            ...(options.producedBy ? { producedBy: options.producedBy } : {}),
          }),
        );
        const { model: pushed, version, sent, skipped } = result;
        console.log(
          `Pushed ${pushed.name}:${version.version} (${files(sent.length)} sent, ${skipped.length} already on the server)`,
        );
        const aliases = aliasesOf(pushed, version.version);
        if (aliases.length > 0) console.log(`Aliases: ${aliases.join(', ')}`);
      },
    );

  model
    .command('pull <reference> <dir>')
    .description('write a model version (name, name:3 or name:alias; default latest) as a PMF tree in a new folder')
    .action(async (reference: string, dir: string) => {
      const { name, version } = parseModelReference(reference);
      const pulled = await withRegistry((registry) => registry.pullVersion(name, version, dir));
      console.log(
        `Wrote ${pulled.model.name}:${pulled.version.version} to ${pulled.path} (validated, checksums verified)`,
      );
    });

  model
    .command('ls')
    .description('list the models you may read')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const models = await withRegistry((registry) => registry.list());
      if (options.json) {
        console.log(JSON.stringify(models, null, 2));
        return;
      }
      if (models.length === 0) {
        console.log('No models yet: push one with "larder model push <pmf-dir>".');
        return;
      }
      const rows = models.map((each) => [
        each.name,
        each.aliases.latest === undefined ? '-' : `v${each.aliases.latest}`,
        each.type || '-',
        each.framework || '-',
        each.private ? 'private' : 'shared',
        each._id,
      ]);
      console.log(table([['NAME', 'LATEST', 'TYPE', 'FRAMEWORK', 'ACCESS', 'ID'], ...rows]));
    });

  model
    .command('show <reference>')
    .description('show a model and its versions, or one version (name:3, name:alias)')
    .option('--json', 'print JSON')
    .action(async (reference: string, options: { json?: boolean }) => {
      const { name } = parseModelReference(reference);
      const one = reference.includes(':');
      const shown = await withRegistry(async (registry) => {
        const found = await registry.get({ name });
        if (one)
          return {
            model: found,
            versions: [await registry.getVersion({ id: found._id }, parseModelReference(reference).version)],
          };
        return { model: found, versions: await registry.listVersions({ id: found._id }) };
      });
      if (options.json) {
        console.log(JSON.stringify(one ? shown.versions[0] : shown, null, 2));
        return;
      }
      if (one) console.log(describeVersion(shown.model, shown.versions[0] as ModelVersionRecord));
      else console.log(describeModel(shown.model, shown.versions));
    });

  model
    .command('alias <name> <alias> [version]')
    .description('point an alias at a version (number or another alias), or remove it with --remove')
    .option('--remove', 'remove the alias')
    .action(async (name: string, alias: string, version: string | undefined, options: { remove?: boolean }) => {
      if (Boolean(options.remove) === (version !== undefined)) {
        throw new CliError('Give either a version to point the alias at, or --remove');
      }
      const target = version === undefined ? null : parseModelReference(`${name}:${version}`).version;
      const changed = await withRegistry((registry) => registry.setAlias(name, alias, target));
      console.log(
        target === null
          ? `Removed alias ${alias} from ${changed.name}`
          : `${changed.name}:${alias} now points at version ${changed.aliases[alias]}`,
      );
    });
}

function files(count: number): string {
  return count === 1 ? '1 file' : `${count} files`;
}

function aliasesOf(model: ModelRecord, version: number): string[] {
  return Object.entries(model.aliases)
    .filter(([, target]) => target === version)
    .map(([alias]) => alias)
    .sort();
}

function describeModel(model: ModelRecord, versions: ModelVersionRecord[]): string {
  const lines = [
    `${model.name} (${model._id})`,
    `  type: ${model.type || '-'}   framework: ${model.framework || '-'}   ${model.private ? 'private' : 'shared'}`,
  ];
  if (model.tags.length > 0) lines.push(`  tags: ${model.tags.join(', ')}`);
  if (model.description) lines.push(`  ${model.description}`);
  const named = Object.keys(model.files);
  if (named.length > 0) lines.push(`  files: ${named.join(', ')}`);
  if (versions.length === 0) {
    lines.push('  no versions yet');
    return lines.join('\n');
  }
  const rows = versions.map((version) => [
    `v${version.version}`,
    aliasesOf(model, version.version).join(',') || '-',
    version.pmf.training.status,
    String(version.pmf.checkpoints.length),
    bytes(version.size),
    version.createdAt,
  ]);
  lines.push('', table([['VERSION', 'ALIASES', 'TRAINING', 'CHECKPOINTS', 'SIZE', 'CREATED'], ...rows]));
  return lines.join('\n');
}

function describeVersion(model: ModelRecord, version: ModelVersionRecord): string {
  const { pmf } = version;
  const aliases = aliasesOf(model, version.version);
  const lines = [
    `${model.name}:${version.version}${aliases.length > 0 ? ` (${aliases.join(', ')})` : ''}  ${version._id}`,
    `  PMF model ${pmf.name ?? '(unnamed)'} [${pmf.id}], produced by ${pmf.producer.name} ${pmf.producer.version}`,
    `  training: ${pmf.training.status}, epochs ${pmf.training.startEpoch ?? '-'}..${pmf.training.endEpoch ?? pmf.training.latestEpoch ?? '-'}, latest checkpoint ${pmf.training.latest ?? '-'}`,
    `  configuration: ${pmf.configuration.path}`,
  ];
  if (pmf.initialisation?.kind === 'pmf') lines.push(`  initialised from PMF model ${pmf.initialisation.id}`);
  if (pmf.initialisation?.kind === 'file') lines.push(`  initialised from ${pmf.initialisation.path}`);
  for (const checkpoint of pmf.checkpoints) {
    lines.push(
      `  checkpoint ${checkpoint.reference}: epoch ${checkpoint.epoch}, ${checkpoint.path}, md5 ${checkpoint.md5}`,
    );
  }
  if (version.producedBy.length > 0) lines.push(`  produced by runs: ${version.producedBy.join(', ')}`);
  if (version.usedBy.length > 0) lines.push(`  used by runs: ${version.usedBy.join(', ')}`);
  lines.push(`  ${files(version.files.length)}, ${bytes(version.size)}`);
  return lines.join('\n');
}

function bytes(size: number): string {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KiB`;
  return `${(size / 1024 / 1024).toFixed(1)} MiB`;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
