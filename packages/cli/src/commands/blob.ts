/**
 * Files on the server: `larder blob upload <file>` (chunked, resumable: run it again after
 * a failure and only the missing chunks go), `larder blob download <sha256> <file>`, and
 * `larder gc`, which reclaims blobs that no record holds any more (admins).
 */
import { basename } from 'node:path';
import type { CollectReport } from '@larder/server';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { megabytes, progressLine } from '../terminal/progress-line.js';
import { connect } from './connection.js';
import { parseDuration } from './duration.js';

const SHA256 = /^[0-9a-f]{64}$/;

export function registerBlob(program: Command): void {
  const blob = program.command('blob').description('upload and download files by content hash');

  blob
    .command('upload <file>')
    .description('upload a file; prints its sha256 (resumable: run again after a failure)')
    .option('--chunk-mb <n>', 'chunk size in MiB', '16')
    .action(async (file: string, options: { chunkMb: string }) => {
      const chunkMb = Number(options.chunkMb);
      if (!(chunkMb > 0)) throw new CliError('--chunk-mb must be a positive number');
      const { store } = await connect(program);
      try {
        const uploaded = await store.blobs.upload(file, {
          chunkBytes: Math.round(chunkMb * 1024 * 1024),
          onProgress: progressLine(`uploading ${basename(file)}`),
        });
        console.log(JSON.stringify(uploaded));
      } catch (error) {
        if ((error as { code?: string }).code === 'ENOENT') throw new CliError(`No file ${file}`);
        throw error;
      } finally {
        await store.close();
      }
    });

  blob
    .command('download <sha256> <file>')
    .description('download a blob to a file (resumes after broken connections; verified)')
    .action(async (sha256: string, file: string) => {
      if (!SHA256.test(sha256)) throw new CliError('A blob is named by the 64 lower-case hex digits of its SHA-256');
      const { store } = await connect(program);
      try {
        const { size } = await store.blobs.download(sha256, file);
        console.error(`Wrote ${megabytes(size)} to ${file}`);
      } finally {
        await store.close();
      }
    });

  program
    .command('gc')
    .description('delete blobs that no record holds (administrators)')
    .option('--grace <duration>', 'keep unreferenced uploads younger than this (e.g. 30m, 6h); server default')
    .option('--dry-run', 'report what would be deleted, delete nothing')
    .action(async (options: { grace?: string; dryRun?: boolean }) => {
      const body: Record<string, unknown> = { dryRun: options.dryRun ?? false };
      if (options.grace !== undefined) body.graceSeconds = parseDuration(options.grace, '--grace') / 1000;
      const { store, postJson } = await connect(program);
      try {
        const report = await postJson<CollectReport>('/blobs/gc', body);
        const verb = report.dryRun ? 'would delete' : 'deleted';
        console.log(
          `${verb} ${report.deleted} blobs (${megabytes(report.bytesFreed)}); kept ${report.referenced} referenced and ${report.recent} recent of ${report.scanned} scanned in ${report.milliseconds} ms`,
        );
        if (report.danglingReferences > 0) {
          console.log(`dropped ${report.danglingReferences} references left by records that no longer exist`);
        }
      } finally {
        await store.close();
      }
    });
}
