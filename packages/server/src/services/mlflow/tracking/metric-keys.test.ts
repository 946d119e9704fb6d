import { describe, expect, it } from 'vitest';
import { MlflowError } from '../mlflow-errors.js';
import { metricKeyOfSeries, seriesOfMetricKey } from './metric-keys.js';

describe('MLflow metric keys and Larder series', () => {
  it('reads a type prefix as the series type', () => {
    expect(seriesOfMetricKey('val/loss')).toEqual({ type: 'val', name: 'loss' });
    expect(seriesOfMetricKey('train/layer/0')).toEqual({ type: 'train', name: 'layer/0' });
    expect(metricKeyOfSeries('train', 'loss')).toBe('train/loss');
  });

  it('puts keys without a usable prefix in the mlflow type', () => {
    expect(seriesOfMetricKey('loss')).toEqual({ type: 'mlflow', name: 'loss' });
    expect(seriesOfMetricKey('mlflow/x')).toEqual({ type: 'mlflow', name: 'mlflow/x' });
    expect(seriesOfMetricKey('a.b/c')).toEqual({ type: 'mlflow', name: 'a%2Eb/c' });
    expect(seriesOfMetricKey('/c')).toEqual({ type: 'mlflow', name: '/c' });
    expect(seriesOfMetricKey('x/')).toEqual({ type: 'mlflow', name: 'x/' });
  });

  it('round-trips every key, dots, dollars and percents included', () => {
    const keys = ['loss', 'val/loss', 'train.acc', 'a$b', '50%', '%2E', 'mlflow/x', 'val/a.b', 'x/', 'é/ü', 'a b/c d'];
    for (const key of keys) {
      const { type, name } = seriesOfMetricKey(key);
      expect(name).not.toMatch(/[.$]/);
      expect(metricKeyOfSeries(type, name)).toBe(key);
    }
  });

  it('refuses keys that cannot be a series name', () => {
    expect(() => seriesOfMetricKey('')).toThrow(MlflowError);
    expect(() => seriesOfMetricKey('x'.repeat(129))).toThrow(/1-128 characters/);
    expect(() => seriesOfMetricKey('a\nb')).toThrow(MlflowError);
  });
});
