/** `larder token create|list|revoke`: long-lived API keys for scripts and other machines. */
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { connect } from './connection.js';

interface ApiKey {
  _id: string;
  name: string;
  prefix: string;
  createdAt: string;
  token?: string;
}

export function registerToken(program: Command): void {
  const token = program.command('token').description('manage API keys');

  token
    .command('create')
    .description('create an API key (shown once)')
    .option('--name <name>', 'what the key is for', 'created with larder token create')
    .action(async (options: { name: string }) => {
      const { store } = await connect(program);
      try {
        const key = (await store.service<ApiKey>('api-keys').create({ name: options.name })) as ApiKey;
        console.log(key.token);
        console.error(`Created API key "${key.name}" (id ${key._id.slice(0, 12)}); it will not be shown again.`);
      } finally {
        await store.close();
      }
    });

  token
    .command('list')
    .description('list your API keys')
    .action(async () => {
      const { store } = await connect(program);
      try {
        let count = 0;
        for await (const key of store.service<ApiKey>('api-keys').items()) {
          count += 1;
          console.log(`${key._id.slice(0, 12)}  ${key.prefix}…  ${key.createdAt}  ${key.name}`);
        }
        if (count === 0) console.log('No API keys.');
      } finally {
        await store.close();
      }
    });

  token
    .command('revoke <id>')
    .description('revoke an API key by its id (the first 12 characters are enough)')
    .action(async (id: string) => {
      const { store } = await connect(program);
      try {
        const keys = store.service<ApiKey>('api-keys');
        const matches: ApiKey[] = [];
        for await (const key of keys.items()) if (key._id.startsWith(id)) matches.push(key);
        if (matches.length === 0) throw new CliError(`No API key of yours has an id starting with "${id}"`);
        if (matches.length > 1) throw new CliError(`"${id}" matches ${matches.length} keys: give more characters`);
        await keys.remove((matches[0] as ApiKey)._id);
        console.log(`Revoked API key "${(matches[0] as ApiKey).name}".`);
      } finally {
        await store.close();
      }
    });
}
