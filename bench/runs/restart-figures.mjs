/**
 * A server's restart over the data it holds: time from spawn to first answer, then the
 * first query (a count of the benchmark collection), which shows what loading costs.
 */
import { createHttpClient } from '../measure/http-client.mjs';
import { round } from '../measure/percentiles.mjs';

/**
 * @param {() => Promise<{ url: string, startMs: number, stop: () => Promise<void> }>} start
 * @returns the new server and client (the caller stops them) and the figures
 */
export async function restartFigures(start) {
  const server = await start();
  const client = createHttpClient(server.url);
  const first = await client.expect(200, 'GET', '/bench?$limit=0');
  return {
    server,
    client,
    figures: {
      restartMs: round(server.startMs),
      firstQueryAfterRestartMs: round(first.ms),
      documentsAfterRestart: JSON.parse(first.text).total,
    },
  };
}
