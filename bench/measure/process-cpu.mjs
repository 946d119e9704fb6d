/**
 * CPU time of processes, for figures that show cost better than the wall clock on a shared
 * machine: another process's from /proc (Linux), and this one's (all its threads).
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';

/** CPU seconds (user + system) process `pid` has used, from /proc (Linux; NaN elsewhere). */
export async function processCpuSeconds(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return Number.NaN;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime, fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds this process (every thread of it) has used since `since` (a `process.cpuUsage()`). */
export function ownCpuSeconds(since) {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

/**
 * The rate the machine's cores would give if they did nothing but this work: `amount` over
 * the CPU seconds the client and server spent on it, times the cores. When client and
 * server share the machine, a transfer cannot go faster than this, whatever the disk.
 */
export function cpuCeiling(amount, cpuSeconds, cores = availableParallelism()) {
  return cpuSeconds > 0 ? (amount * cores) / cpuSeconds : Number.NaN;
}
