import { describe, expect, it } from 'vitest';
import { createRunParams, type ParamValue } from './run-params.js';

function track(initial: Record<string, ParamValue> = {}) {
  const changes: Record<string, ParamValue>[] = [];
  const params = createRunParams(initial, (all) => changes.push(all));
  return { params, changes };
}

describe('run.params', () => {
  it('reads and writes parameters as properties and items, reporting each change', () => {
    const { params, changes } = track({ epochs: 10 });
    params.batch_size = 32;
    params['learning rate'] = 0.001;
    expect(params.epochs).toBe(10);
    const key = 'batch_size';
    expect(params[key]).toBe(32);
    expect(params.toJSON()).toEqual({ epochs: 10, batch_size: 32, 'learning rate': 0.001 });
    expect(changes).toEqual([
      { epochs: 10, batch_size: 32 },
      { epochs: 10, batch_size: 32, 'learning rate': 0.001 },
    ]);
    expect('epochs' in params).toBe(true);
    expect(params.keys()).toEqual(['epochs', 'batch_size', 'learning rate']);
  });

  it('update merges, and keeps existing values with override: false', () => {
    const { params, changes } = track({ epochs: 10 });
    params.update({ epochs: 20, optimizer: 'adam' });
    params.update({ epochs: 99, momentum: 0.9 }, { override: false });
    expect(params.toJSON()).toEqual({ epochs: 20, optimizer: 'adam', momentum: 0.9 });
    params.update({ epochs: 1 }, { override: false });
    expect(changes).toHaveLength(2);
  });

  it('delete removes a parameter and reports it', () => {
    const { params, changes } = track({ epochs: 10, dropout: 0.1 });
    delete params.dropout;
    expect(params.toJSON()).toEqual({ epochs: 10 });
    expect(changes).toEqual([{ epochs: 10 }]);
  });

  it('stores copies that refuse in-place changes, so no change goes unrecorded', () => {
    const layers = [64, 32];
    const { params } = track({ model: { layers } });
    layers.push(16);
    expect(params.model).toEqual({ layers: [64, 32] });
    expect(() => {
      (params.model as { layers: number[] }).layers.push(8);
    }).toThrow(TypeError);
  });

  it('refuses values that are not JSON, naming the key', () => {
    const { params } = track();
    expect(() => {
      params.callback = (() => {}) as unknown as ParamValue;
    }).toThrow(/Parameter "callback" is a function/);
    expect(() => params.update({ lr: Number.NaN })).toThrow(/Parameter "lr" is the number NaN/);
    expect(() => params.update({ when: new Date() as unknown as ParamValue })).toThrow(/"when"/);
  });

  it('reserves method names for update() and get()', () => {
    const { params } = track();
    expect(() => {
      (params as Record<string, unknown>).update = 3;
    }).toThrow(/run.params.update/);
    params.update({ keys: 5 });
    expect(params.get('keys')).toBe(5);
  });
});
