import { describe, expect, it } from 'vitest';
import { isWholeDisk, parseDiskstats, parseMeminfo, parseNetDev, parseProcStat } from './linux-proc.js';

// Samples read from a Linux 6.x virtual machine (a virtio disk, zram swap, loop devices).
const PROC_STAT = `cpu  1108185 2142 197621 599275 402403 0 5853 13001 0 0
cpu0 525629 1008 92156 380892 149201 0 1677 6440 0 0
intr 18300394 0 9 0
ctxt 38861229
`;
const MEMINFO = `MemTotal:       24684084 kB
MemFree:        18157924 kB
MemAvailable:   22680268 kB
Buffers:           43252 kB
Cached:          4255064 kB
SwapCached:            0 kB
`;
const DISKSTATS = `   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
 254       0 vda 1301625 55683 32781922 249644121 902914 683168 166828840 7474789 3 4402336 258175423 379648 1029 101942496 837259 155408 219252
 254       1 vda1 1300000 55000 32700000 249000000 900000 683000 166800000 7470000 0 4400000 258000000 0 0 0 0 0 0
 253       0 zram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
`;
const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 28301073637 2540683    0    0    0     0          0         0 28301073637 2540683    0    0    0     0       0          0
  ifb0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
  eth0: 4133824917  130516    0    0    0     0          0         0 12229531   96826    0    0    0     0       0          0
`;

describe('Linux /proc parsers', () => {
  it('reads CPU time from the aggregate line, idle and iowait as not busy, guest time not counted twice', () => {
    const total = 1108185 + 2142 + 197621 + 599275 + 402403 + 0 + 5853 + 13001;
    expect(parseProcStat(PROC_STAT)).toEqual({ busy: total - 599275 - 402403, total });
    expect(parseProcStat('intr 1 2 3\n')).toBeUndefined();
  });

  it('reads memory in use as total minus available, with the old estimate on kernels without MemAvailable', () => {
    expect(parseMeminfo(MEMINFO)).toEqual({ usedBytes: (24684084 - 22680268) * 1024, totalBytes: 24684084 * 1024 });
    const old = MEMINFO.replace(/^MemAvailable.*\n/m, '');
    expect(parseMeminfo(old)?.usedBytes).toBe((24684084 - 18157924 - 43252 - 4255064) * 1024);
    expect(parseMeminfo('nothing here')).toBeUndefined();
  });

  it('counts whole disks once: no partitions, loop, zram or device-mapper devices', () => {
    const known = new Set(['loop0', 'vda', 'zram0']);
    expect(parseDiskstats(DISKSTATS, (name) => isWholeDisk(name, known))).toEqual({
      readBytes: 32781922 * 512,
      writtenBytes: 166828840 * 512,
    });
    // Without /sys/block, partitions are told by their names.
    expect(parseDiskstats(DISKSTATS, (name) => isWholeDisk(name))?.readBytes).toBe(32781922 * 512);
    for (const name of ['sda1', 'nvme0n1p2', 'mmcblk0p1', 'dm-0', 'md127', 'loop3'])
      expect(isWholeDisk(name)).toBe(false);
    for (const name of ['sda', 'nvme0n1', 'mmcblk0', 'vdb']) expect(isWholeDisk(name)).toBe(true);
  });

  it('sums network bytes of every interface but loopback', () => {
    expect(parseNetDev(NET_DEV)).toEqual({ receivedBytes: 4133824917, sentBytes: 12229531 });
    expect(parseNetDev('garbage')).toBeUndefined();
  });
});
