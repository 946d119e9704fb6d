/** Saves a report as bench/results/<timestamp>.json and bench/results/latest.json. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RESULTS = fileURLToPath(new URL('../results', import.meta.url));

/** @returns {Promise<string>} the timestamped file's path */
export async function writeReport(report) {
  await mkdir(RESULTS, { recursive: true });
  const text = `${JSON.stringify(report, null, 2)}\n`;
  const file = join(RESULTS, `${report.startedAt.replace(/:/g, '-')}.json`);
  await writeFile(file, text);
  await writeFile(join(RESULTS, 'latest.json'), text);
  return file;
}
