#!/usr/bin/env node
/** The `larder` command. */
import { Command, CommanderError } from 'commander';
import { describeFailure } from './cli-error.js';
import { registerAccount } from './commands/account.js';
import { registerBlob } from './commands/blob.js';
import { registerDatalake } from './commands/datalake.js';
import { registerModel } from './commands/model.js';
import { registerRecords } from './commands/records.js';
import { registerRuns } from './commands/runs.js';
import { registerServe } from './commands/serve.js';
import { registerStock } from './commands/stock.js';
import { registerToken } from './commands/token.js';
import { registerWebhooks } from './commands/webhooks.js';

const program = new Command();
program
  .name('larder')
  .description('Larder: a self-hosted home for machine-learning work')
  .version('0.1.0')
  .option('--url <url>', 'server URL (default: $LARDER_URL, the credentials file, or http://127.0.0.1:3030)')
  .option('--token <token>', 'API key or JWT (default: $LARDER_TOKEN or the credentials file)')
  .showSuggestionAfterError()
  .exitOverride();

registerServe(program);
registerAccount(program);
registerRecords(program);
registerToken(program);
registerBlob(program);
registerRuns(program);
registerModel(program);
registerStock(program);
registerDatalake(program);
registerWebhooks(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  console.error(`larder: ${describeFailure(error)}`);
  process.exit(1);
}
