/** `larder model …`: work with PMF model directories. `validate` checks one and lists every offence. */
import { formatOffence, validateModel } from '@larder/pmf';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';

export function registerModel(program: Command): void {
  const model = program.command('model').description('work with PMF (plums model format) models');

  model
    .command('validate <dir>')
    .description('check that a directory is a valid PMF model and list every offence')
    .option('--strict', 'also check the MD5 of the configuration, checkpoints and initialisation file')
    .option('--verbose', 'show the offending values')
    .action(async (dir: string, options: { strict?: boolean; verbose?: boolean }) => {
      const strict = options.strict ?? false;
      const offences = await validateModel(dir, { strict });
      if (offences.length > 0) {
        for (const offence of offences) console.log(formatOffence(offence, options.verbose ?? false));
        const count = offences.length === 1 ? '1 offence' : `${offences.length} offences`;
        throw new CliError(`${dir} is not a valid PMF model (${count})`);
      }
      console.log(`OK: ${dir} is a valid PMF model${strict ? ' (checksums verified)' : ''}`);
    });
}
