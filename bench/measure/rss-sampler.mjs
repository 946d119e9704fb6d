/**
 * Samples a process's resident memory (VmRSS from /proc/<pid>/status) on a timer, to show
 * whether a server's memory stays flat while a large body streams through it.
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const MIB = 1024 * 1024;

/** @param {number} pid @returns {Promise<number>} bytes */
export async function readRss(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`No VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** The median of a few readings a short while apart: the level before a transfer. */
export async function baselineRss(pid, readings = 5, intervalMs = 50) {
  const values = [];
  for (let i = 0; i < readings; i++) {
    values.push(await readRss(pid));
    await sleep(intervalMs);
  }
  return values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
}

/**
 * Starts sampling; `stop()` answers the peak seen and how many samples were taken.
 * @example
 *   const sampler = sampleRss(pid);
 *   await transfer();
 *   const { peakBytes } = sampler.stop();
 */
export function sampleRss(pid, intervalMs = 50) {
  let peakBytes = 0;
  let samples = 0;
  const take = () =>
    readRss(pid).then(
      (bytes) => {
        peakBytes = Math.max(peakBytes, bytes);
        samples++;
      },
      () => {}, // the process may be gone at the very end; the peak so far stands
    );
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return { peakBytes, samples };
    },
  };
}

/** Bytes to MiB with one decimal. */
export function toMiB(bytes) {
  return Math.round((bytes / MIB) * 10) / 10;
}
