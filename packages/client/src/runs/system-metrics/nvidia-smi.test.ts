import { describe, expect, it } from 'vitest';
import { NvidiaSmi, parseNvidiaSmi } from './nvidia-smi.js';

// Lines in the shape `nvidia-smi --query-gpu=index,utilization.gpu,memory.used,memory.total,
// temperature.gpu,power.draw --format=csv,noheader,nounits` prints: ", " between columns,
// "[N/A]" or "[Not Supported]" where a board does not report a field (consumer boards and
// MIG instances often lack power or utilisation).
const TWO_DATA_CENTRE_GPUS = '0, 97, 65437, 81559, 63, 412.87\n1, 0, 4, 81559, 31, 69.12\n';
const A6000_IDLE = '0, 0, 1, 46068, 28, 24.13\r\n';
const UNSUPPORTED = '0, [N/A], 512, 4096, 45, [Not Supported]\n';

describe('parseNvidiaSmi', () => {
  it('reads each GPU line', () => {
    expect(parseNvidiaSmi(TWO_DATA_CENTRE_GPUS)).toEqual([
      {
        index: 0,
        utilizationPercent: 97,
        memoryUsedMiB: 65437,
        memoryTotalMiB: 81559,
        temperatureC: 63,
        powerW: 412.87,
      },
      { index: 1, utilizationPercent: 0, memoryUsedMiB: 4, memoryTotalMiB: 81559, temperatureC: 31, powerW: 69.12 },
    ]);
    expect(parseNvidiaSmi(A6000_IDLE)).toEqual([
      { index: 0, utilizationPercent: 0, memoryUsedMiB: 1, memoryTotalMiB: 46068, temperatureC: 28, powerW: 24.13 },
    ]);
  });

  it('leaves out the fields a GPU does not report, and skips lines that are not readings', () => {
    expect(parseNvidiaSmi(UNSUPPORTED)).toEqual([
      { index: 0, memoryUsedMiB: 512, memoryTotalMiB: 4096, temperatureC: 45 },
    ]);
    const failure =
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n";
    expect(parseNvidiaSmi(failure)).toEqual([]);
    expect(parseNvidiaSmi('')).toEqual([]);
  });
});

describe('NvidiaSmi', () => {
  it('answers no GPUs, without throwing, where the tool is missing, and stops asking', async () => {
    const smi = new NvidiaSmi('/nonexistent/nvidia-smi');
    await expect(smi.query()).resolves.toEqual([]);
    expect(smi.working).toBe(false);
    await expect(smi.query()).resolves.toEqual([]);
  });
});
