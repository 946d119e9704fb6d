/**
 * Parsers of the Linux kernel's own counters (`/proc/stat`, `/proc/meminfo`,
 * `/proc/diskstats`, `/proc/net/dev`), as pure functions of the files' text so they are
 * tested on real samples. Each answers cumulative counters; rates come from two readings.
 * A file that does not look as expected answers `undefined`, never throws.
 */

/** Jiffies the CPUs spent busy and in total since boot (the aggregate `cpu` line). */
export interface CpuTimes {
  busy: number;
  total: number;
}

export interface MemoryUse {
  usedBytes: number;
  totalBytes: number;
}

export interface DiskCounters {
  readBytes: number;
  writtenBytes: number;
}

export interface NetworkCounters {
  receivedBytes: number;
  sentBytes: number;
}

/**
 * The aggregate line of `/proc/stat`: `cpu user nice system idle iowait irq softirq steal
 * guest guest_nice`. Guest time is already counted in user time, so it is left out; idle
 * and iowait are the time not busy.
 *
 * @example
 * parseProcStat('cpu  100 0 50 800 50 0 0 0 0 0\n'); // { busy: 150, total: 1000 }
 */
export function parseProcStat(text: string): CpuTimes | undefined {
  const line = text.split('\n').find((each) => each.startsWith('cpu '));
  if (!line) return undefined;
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (fields.length < 4 || fields.some((field) => !Number.isFinite(field))) return undefined;
  const total = fields.reduce((sum, field) => sum + field, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/** Memory in use: `MemTotal - MemAvailable` (what `free` calls used, cache not counted). */
export function parseMeminfo(text: string): MemoryUse | undefined {
  const kib = (key: string) => {
    const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return match ? Number(match[1]) * 1024 : undefined;
  };
  const total = kib('MemTotal');
  // Kernels before 3.14 have no MemAvailable: free + buffers + cache is its old estimate.
  const available = kib('MemAvailable') ?? sumDefined([kib('MemFree'), kib('Buffers'), kib('Cached')]);
  if (total === undefined || available === undefined) return undefined;
  return { usedBytes: Math.max(0, total - available), totalBytes: total };
}

/**
 * Bytes read and written by whole disks since boot. `isDisk` tells whole disks from
 * partitions and virtual devices (counting both would count each byte twice); sectors in
 * `/proc/diskstats` are always 512 bytes, whatever the device's own sector size.
 */
export function parseDiskstats(text: string, isDisk: (name: string) => boolean): DiskCounters | undefined {
  let readBytes = 0;
  let writtenBytes = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const name = fields[2];
    if (name === undefined || fields.length < 14 || !isDisk(name)) continue;
    const read = Number(fields[5]);
    const written = Number(fields[9]);
    if (!Number.isFinite(read) || !Number.isFinite(written)) continue;
    readBytes += read * 512;
    writtenBytes += written * 512;
    seen = true;
  }
  return seen ? { readBytes, writtenBytes } : undefined;
}

const VIRTUAL_DISK = /^(loop|ram|zram|dm-|md|sr|fd|nbd)/;
const PARTITION = /^(sd[a-z]+|vd[a-z]+|xvd[a-z]+|hd[a-z]+)\d+$|^(nvme\d+n\d+|mmcblk\d+)p\d+$/;

/**
 * Whether a device name is a whole physical disk: among `blockDevices` (the names in
 * `/sys/block`, which lists no partitions) when known, else by the usual naming; never a
 * loop, RAM, device-mapper or RAID device, whose bytes also pass through a physical disk.
 */
export function isWholeDisk(name: string, blockDevices?: ReadonlySet<string>): boolean {
  if (VIRTUAL_DISK.test(name)) return false;
  return blockDevices ? blockDevices.has(name) : !PARTITION.test(name);
}

/** Bytes received and sent by every interface but loopback since boot. */
export function parseNetDev(text: string): NetworkCounters | undefined {
  let receivedBytes = 0;
  let sentBytes = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim();
    if (name === '') continue;
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (fields.length < 16 || !Number.isFinite(fields[0]) || !Number.isFinite(fields[8])) continue;
    seen = true;
    if (name === 'lo') continue;
    receivedBytes += fields[0] as number;
    sentBytes += fields[8] as number;
  }
  return seen ? { receivedBytes, sentBytes } : undefined;
}

function sumDefined(values: (number | undefined)[]): number | undefined {
  return values.every((value) => value !== undefined) ? values.reduce<number>((sum, v) => sum + v, 0) : undefined;
}
