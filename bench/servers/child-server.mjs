/**
 * A server under test run as a child process: spawned, timed from spawn to its first 200
 * answer (polled every 10 ms on a fresh connection), and stopped with SIGTERM, then SIGKILL.
 * Every live child is also killed when the bench process exits, however it exits.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

const POLL_MS = 10;
const live = new Set();
/** Signals the child's whole process group: servers that fork workers (uvicorn) go too. */
function signalGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

process.on('exit', () => {
  for (const child of live) signalGroup(child, 'SIGKILL');
});

/** One GET on a new connection; resolves with the status or 0 when nothing answers yet. */
function probe(url) {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false, timeout: 1000 }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(0));
  });
}

/**
 * @param {{ name: string, command: string, args: string[], port: number, readyPath: string,
 *           cwd?: string, env?: NodeJS.ProcessEnv, timeoutMs?: number }} options
 * @returns {Promise<{ pid: number, url: string, startMs: number, output: () => string, stop: () => Promise<void> }>}
 * @example
 *   const server = await startChildServer({ name: 'larder', command: process.execPath,
 *     args: ['main.js', 'serve', '--port', '4000'], port: 4000, readyPath: '/health' });
 */
export async function startChildServer(options) {
  const url = `http://127.0.0.1:${options.port}`;
  let output = '';
  const started = performance.now();
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so that stopping it stops whatever it started.
    detached: true,
  });
  live.add(child);
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = false;
  const exit = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      exited = true;
      live.delete(child);
      resolve({ code, signal });
    }),
  );

  const stop = async () => {
    if (exited) return;
    signalGroup(child, 'SIGTERM');
    const killed = await Promise.race([exit, sleep(5000).then(() => undefined)]);
    if (!killed) {
      signalGroup(child, 'SIGKILL');
      await exit;
    }
    // Workers may outlive their parent for a moment; make sure none keeps running.
    signalGroup(child, 'SIGKILL');
  };

  const deadline = started + (options.timeoutMs ?? 30_000);
  for (;;) {
    if (exited) throw new Error(`${options.name} exited before answering:\n${output}`);
    if ((await probe(`${url}${options.readyPath}`)) === 200) break;
    if (performance.now() > deadline) {
      await stop();
      throw new Error(
        `${options.name} did not answer ${options.readyPath} within ${options.timeoutMs ?? 30_000} ms:\n${output}`,
      );
    }
    await sleep(POLL_MS);
  }
  const startMs = performance.now() - started;
  return { pid: /** @type {number} */ (child.pid), url, startMs, output: () => output, stop };
}
