/**
 * `larder serve`: runs the server on its embedded defaults until SIGINT or SIGTERM, then
 * shuts down cleanly. On the first start with auth on it saves the new admin's credentials
 * where the CLI and SDK look for them.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DEFAULT_HOST, DEFAULT_PORT } from '@larder/protocol';
import type { RunningServer } from '@larder/server';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { parseDuration } from './duration.js';

interface ServeOptions {
  host: string;
  port: string;
  data: string;
  auth: boolean;
  openSignup?: boolean;
  services?: string;
  maxBodyMb?: string;
  db?: string;
  redis?: string;
  blobs?: string;
  gcEvery: string;
  gcGrace: string;
}

/** A database URL without its password, for messages. */
function redact(url: string | undefined): string {
  return (url ?? '').replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port must be 0-65535, not "${text}"`);
  return port;
}

async function saveAdmin(server: RunningServer, dataDir: string): Promise<void> {
  const admin = server.createdAdmin;
  if (!admin) return;
  const adminFile = join(dataDir, 'admin-credentials.json');
  await writeFile(adminFile, `${JSON.stringify({ url: server.url, ...admin }, null, 2)}\n`, { mode: 0o600 });
  await chmod(adminFile, 0o600);
  // Loaded only on this first start: the SDK and its libraries would slow every other one.
  const { defaultCredentialsPath, writeCredentials } = await import('@larder/client');
  const credentials = await defaultCredentialsPath();
  await writeCredentials(credentials, server.url, { token: admin.token, email: admin.email });
  console.log(
    [
      `First start: created the admin ${admin.email} and an API key.`,
      `  Saved to ${adminFile} (password and key) and ${credentials} (key, used by the CLI and SDK).`,
      `  Try: npx larder whoami  ·  curl -H "Authorization: Bearer $(node -p "require('${adminFile}').token")" ${server.url}/info`,
    ].join('\n'),
  );
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the Larder server (SQLite and a folder of files under --data)')
    .option('--host <host>', 'interface to bind', DEFAULT_HOST)
    .option('--port <port>', 'TCP port (0 picks a free one)', String(DEFAULT_PORT))
    .option('--data <dir>', 'data folder: database and blobs', './larder-data')
    .option('--db <url>', 'keep metadata in PostgreSQL (postgres://user:password@host/db) instead of SQLite')
    .option(
      '--blobs <url>',
      'keep blobs in S3-compatible storage (s3://bucket/prefix; endpoint and keys from AWS_* variables)',
    )
    .option('--redis <url>', 'share realtime events with the other instances using this Redis (redis://host:6379)')
    .option('--no-auth', 'no users or tokens: single-user local use')
    .option('--open-signup', 'let anyone create an account with POST /users')
    .option('--services <names>', 'comma-separated whitelist of dynamic service names')
    .option('--max-body-mb <n>', 'largest JSON body in MiB', '16')
    .option('--gc-every <duration>', 'collect unreferenced blobs this often (e.g. 30m, 1h; 0 never)', '1h')
    .option('--gc-grace <duration>', 'keep unreferenced uploads at least this long', '6h')
    .action(async (options: ServeOptions) => {
      const dataDir = resolve(options.data);
      await mkdir(dataDir, { recursive: true, mode: 0o700 }).catch((error: Error) => {
        throw new CliError(`Cannot use ${dataDir} as the data folder: ${error.message}`);
      });
      const maxBodyMb = Number(options.maxBodyMb);
      if (!(maxBodyMb > 0)) throw new CliError('--max-body-mb must be a positive number');
      const gcIntervalMs = parseDuration(options.gcEvery, '--gc-every');
      const gcGraceMs = parseDuration(options.gcGrace, '--gc-grace');
      // Loaded here so that the other commands start without the server's dependencies.
      const { startServer } = await import('@larder/server');
      let server: RunningServer;
      try {
        server = await startServer({
          host: options.host,
          port: parsePort(options.port),
          dataDir,
          ...(options.db ? { database: options.db } : {}),
          ...(options.redis ? { redis: options.redis } : {}),
          ...(options.blobs ? { blobs: options.blobs } : {}),
          auth: options.auth,
          openSignup: options.openSignup ?? false,
          maxBodyBytes: Math.floor(maxBodyMb * 1024 * 1024),
          gcIntervalMs,
          gcGraceMs,
          ...(options.services ? { serviceWhitelist: options.services.split(',').map((s) => s.trim()) } : {}),
        });
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'EADDRINUSE')
          throw new CliError(`Port ${options.port} is in use: stop what uses it or pick --port`);
        if (code === 'EACCES') throw new CliError(`Not allowed to listen on ${options.host}:${options.port}`);
        const name = (error as { name?: string }).name;
        if (name === 'Unavailable' || name === 'BadRequest') {
          const message = (error as Error).message;
          if (message.startsWith('Cannot reach Redis')) throw new CliError(message);
          if (/object storage|s3:\/\//.test(message))
            throw new CliError(`Cannot use the blob storage ${options.blobs}: ${message}`);
          throw new CliError(`Cannot use the database ${redact(options.db)}: ${message}`);
        }
        throw error;
      }
      const metadata = options.db ? `, metadata in ${redact(options.db)}` : '';
      console.log(
        `Larder is serving ${server.url} (data in ${dataDir}${metadata}, auth ${options.auth ? 'on' : 'off'})`,
      );
      if (!options.auth && !isLoopback(options.host)) {
        console.warn(
          `Warning: auth is off and ${options.host} is reachable from other machines: anyone who can connect can read, change and delete everything.`,
        );
      }
      await saveAdmin(server, dataDir);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) {
          console.log('Stopping now.');
          process.exit(1);
        }
        stopping = true;
        console.log(`${signal}: finishing requests and closing the database…`);
        server.close().then(
          () => {
            console.log('Larder stopped.');
            process.exit(0);
          },
          (error: Error) => {
            console.error(`Shutdown failed: ${error.message}`);
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}
