import { describe, expect, it } from 'vitest';
import { chartRank, placeSystemSeries } from './system-metric-charts.js';

describe('placeSystemSeries', () => {
  it('puts the machine and the process together, each GPU as a line of its quantity, anything else apart', () => {
    expect(placeSystemSeries('cpu_percent')).toEqual({ chart: 'CPU (%)', label: 'machine' });
    expect(placeSystemSeries('process_rss_mib').chart).toBe(placeSystemSeries('memory_used_mib').chart);
    expect(placeSystemSeries('gpu0_power_w')).toEqual({ chart: 'GPU power (W)', label: 'GPU 0' });
    expect(placeSystemSeries('gpu12_utilization_percent')).toEqual({ chart: 'GPU utilisation (%)', label: 'GPU 12' });
    expect(placeSystemSeries('gpu1_fan_speed')).toEqual({ chart: 'gpu1_fan_speed', label: 'gpu1_fan_speed' });
    expect(chartRank('CPU (%)')).toBeLessThan(chartRank('GPU power (W)'));
    expect(chartRank('GPU power (W)')).toBeLessThan(chartRank('gpu1_fan_speed'));
  });
});
