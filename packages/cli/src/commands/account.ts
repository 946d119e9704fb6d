/**
 * `larder login`, `larder whoami`, `larder services`: signing in (an API key is created and
 * saved, so the CLI and SDK stay signed in), and asking who and what the server knows.
 */
import { hostname } from 'node:os';
import { DataStore, defaultCredentialsPath, LarderError, resolveConnection, writeCredentials } from '@larder/client';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { connect } from './connection.js';
import { ask } from './prompt.js';

interface WhoAmI {
  auth: boolean;
  user: { _id: string; email: string; role: string } | null;
}

export function registerAccount(program: Command): void {
  program
    .command('login')
    .description('sign in and save an API key for this server')
    .option('--email <email>', 'account email (asked when missing)')
    .option('--password <password>', 'account password (asked when missing; prefer the prompt)')
    .action(async (options: { email?: string; password?: string }) => {
      const globals = program.opts<{ url?: string; token?: string }>();
      const { url } = await resolveConnection(globals.url ? { url: globals.url } : {});
      const path = await defaultCredentialsPath();
      if (globals.token) {
        const me = await (await connect(program)).getJson<WhoAmI>('/whoami');
        if (!me.user) throw new CliError(`${url} has auth switched off: there is nothing to log in to`);
        await writeCredentials(path, url, { token: globals.token, email: me.user.email }, { makeDefault: true });
        console.log(`Saved the token for ${me.user.email} at ${url} in ${path}`);
        return;
      }
      const email = options.email ?? (await ask('Email: '));
      const password = options.password ?? (await ask('Password: ', true));
      const session = new DataStore({ url });
      try {
        await session.authenticate({ email, password }).catch((error: unknown) => {
          if (error instanceof LarderError && error.name === 'NotAuthenticated') {
            throw new CliError(`The e-mail or password is wrong for ${url}; check them and run larder login again`);
          }
          throw error;
        });
        const key = (await session.service<{ token: string; name: string }>('api-keys').create({
          name: `larder login on ${hostname()} ${new Date().toISOString().slice(0, 10)}`,
        })) as { token: string };
        await writeCredentials(path, url, { token: key.token, email }, { makeDefault: true });
        console.log(`Logged in to ${url} as ${email}; API key saved in ${path}`);
      } finally {
        await session.close();
      }
    });

  program
    .command('whoami')
    .description('show the account the CLI uses on the server')
    .action(async () => {
      const connection = await connect(program);
      const me = await connection.getJson<WhoAmI>('/whoami');
      if (!me.auth) console.log(`${connection.url}: auth is off (everyone is the local owner)`);
      else if (me.user) console.log(`${me.user.email} (${me.user.role}) at ${connection.url}`);
    });

  program
    .command('services')
    .description('list the services that hold records')
    .action(async () => {
      const connection = await connect(program);
      const { services } = await connection.getJson<{ services: string[] }>('/info');
      if (services.length === 0) console.log('No services hold records yet.');
      for (const name of services) console.log(name);
    });
}
