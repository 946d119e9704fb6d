#!/usr/bin/env node
/** The `larder` command. */
import { Command, CommanderError } from 'commander';
import { describeFailure } from './cli-error.js';
import { registerCommands } from './command-modules.js';

const program = new Command();
program
  .name('larder')
  .description('Larder: a self-hosted home for machine-learning work')
  .version('0.1.0')
  .option('--url <url>', 'server URL (default: $LARDER_URL, the credentials file, or http://127.0.0.1:3030)')
  .option('--token <token>', 'API key or JWT (default: $LARDER_TOKEN or the credentials file)')
  .showSuggestionAfterError()
  .exitOverride();

try {
  await registerCommands(program, process.argv.slice(2));
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  console.error(`larder: ${describeFailure(error)}`);
  process.exit(1);
}
