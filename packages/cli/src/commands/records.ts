/**
 * `larder find <service> [--where <json>] [--limit n]`: the records of any service (Marcelle's
 * and other dynamic services too), one JSON object per line. A service never written to is
 * said to be so, with the name it most likely meant, instead of answering an empty list.
 */
import { unwrittenServiceNotice } from '@larder/client';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { connect } from './connection.js';

export function registerRecords(program: Command): void {
  program
    .command('find <service>')
    .description('print the records of a service, one JSON object per line')
    .option('--where <json>', 'a query, e.g. \'{"status":"done"}\'')
    .option('--limit <n>', 'at most this many records', '50')
    .action(async (service: string, options: { where?: string; limit: string }) => {
      let where: Record<string, unknown> = {};
      if (options.where) {
        try {
          where = JSON.parse(options.where) as Record<string, unknown>;
        } catch {
          throw new CliError('--where must be a JSON object, e.g. \'{"status":"done"}\'');
        }
        if (where === null || typeof where !== 'object' || Array.isArray(where)) {
          throw new CliError('--where must be a JSON object');
        }
      }
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new CliError('--limit must be a positive whole number');
      const { store } = await connect(program);
      try {
        const notice = await unwrittenServiceNotice(store, service);
        if (notice) throw new CliError(notice.charAt(0).toUpperCase() + notice.slice(1));
        const page = (await store.service(service).find({ query: { ...where, $limit: Math.min(limit, 1000) } })) as
          | { data: unknown[]; total: number }
          | unknown[];
        const records = Array.isArray(page) ? page : page.data;
        for (const record of records) console.log(JSON.stringify(record));
        if (!Array.isArray(page) && page.total > records.length) {
          console.error(`(${records.length} of ${page.total} records; use --limit or --where)`);
        }
      } finally {
        await store.close();
      }
    });
}
