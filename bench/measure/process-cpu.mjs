/**
 * CPU time of processes, for figures that show cost better than the wall clock on a shared
 * machine: another process's from /proc (Linux), and this one's (all its threads).
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';

/** CPU seconds (user + system) process `pid` has used, from /proc (Linux; NaN elsewhere). */
export async function processCpuSeconds(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return Number.NaN;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime, fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Runs `work`: its answer, wall seconds, this process's CPU seconds (every thread of it, user
 * + system) and, given a server's `pid`, the CPU seconds that process spent meanwhile.
 */
export async function timedWithCpu(work, pid) {
  const serverBefore = pid === undefined ? 0 : await processCpuSeconds(pid);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const answer = await work();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const serverCpuSeconds = pid === undefined ? Number.NaN : (await processCpuSeconds(pid)) - serverBefore;
  return { answer, seconds, cpuSeconds: (used.user + used.system) / 1e6, serverCpuSeconds };
}

/**
 * The rate the machine's cores would give if they did nothing but this work: `amount` over
 * the CPU seconds the client and server spent on it, times the cores. When client and
 * server share the machine, a transfer cannot go faster than this, whatever the disk.
 */
export function cpuCeiling(amount, cpuSeconds, cores = availableParallelism()) {
  return cpuSeconds > 0 ? (amount * cores) / cpuSeconds : Number.NaN;
}
