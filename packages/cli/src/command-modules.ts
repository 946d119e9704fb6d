/**
 * Which module registers each `larder` command, so that a run loads only the module of the
 * command it runs: the others' libraries (the SDK, socket.io's client, archiver, stock, PMF)
 * would cost every command, `larder serve` included, most of its start-up time.
 */
import type { Command } from 'commander';

/** Adds a module's commands, with their options and actions, to the program. */
export type RegisterCommands = (program: Command) => void;

const account = async () => (await import('./commands/account.js')).registerAccount;
const blob = async () => (await import('./commands/blob.js')).registerBlob;
const runs = async () => (await import('./commands/runs.js')).registerRuns;
const datalake = async () => (await import('./commands/datalake.js')).registerDatalake;

/** Every top-level command by name, in the order `larder --help` lists them. */
export const COMMAND_MODULES: Readonly<Record<string, () => Promise<RegisterCommands>>> = {
  serve: async () => (await import('./commands/serve.js')).registerServe,
  login: account,
  whoami: account,
  services: account,
  find: async () => (await import('./commands/records.js')).registerRecords,
  token: async () => (await import('./commands/token.js')).registerToken,
  blob,
  gc: blob,
  runs,
  upload: runs,
  download: runs,
  model: async () => (await import('./commands/model.js')).registerModel,
  stock: async () => (await import('./commands/stock.js')).registerStock,
  pictures: datalake,
  datasets: datalake,
  webhooks: async () => (await import('./commands/webhooks.js')).registerWebhooks,
};

/** The global options that take a value, which come before the command's name. */
const GLOBAL_OPTIONS_WITH_VALUE = new Set(['--url', '--token']);

/**
 * The command named on a command line (the arguments after `larder`), or undefined when there
 * is none before another option (`--help`, `--version`) or it is not a command (`help`, a typo).
 *
 * @example
 * commandNamed(['--url', 'http://host:3030', 'runs', 'ls']); // 'runs'
 */
export function commandNamed(args: readonly string[]): string | undefined {
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    if (!arg.startsWith('-')) return Object.hasOwn(COMMAND_MODULES, arg) ? arg : undefined;
    const option = arg.split('=')[0] as string;
    if (!GLOBAL_OPTIONS_WITH_VALUE.has(option)) return undefined;
    // `--url http://…` rather than `--url=http://…`: the value is the next argument.
    if (option === arg) index++;
  }
  return undefined;
}

/**
 * Registers the named command's module, or every module when no command is named, so that
 * help, suggestions after a typo and `larder help <command>` see them all.
 */
export async function registerCommands(program: Command, args: readonly string[]): Promise<void> {
  const name = commandNamed(args);
  const named = name === undefined ? undefined : COMMAND_MODULES[name];
  const loaders = named ? [named] : [...new Set(Object.values(COMMAND_MODULES))];
  const registrars = await Promise.all(loaders.map((load) => load()));
  for (const register of registrars) register(program);
}
