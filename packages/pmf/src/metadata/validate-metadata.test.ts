import { describe, expect, it } from 'vitest';
import { readYaml, writeYaml } from '../yaml/pyyaml-dialect.js';
import { validateMetadata } from './validate-metadata.js';

const HASH = '0123456789abcdef0123456789abcdef';

/** A valid finished model's metadata as plain data, for each test to break. */
function validMetadata() {
  return {
    format: { version: '1.0.0', producer: { name: 'my_package', version: { format: 'py_pa', value: '1.2.0' } } },
    model: {
      name: 'model',
      id: 'id-1',
      configuration: { path: 'config.yaml', hash: HASH },
      initialisation: null as unknown,
      training: {
        status: 'finished',
        start_time: 100.5,
        start_epoch: 0,
        latest_time: 200,
        latest_epoch: 10,
        end_time: 200,
        end_epoch: 10,
        latest: 10 as unknown,
        checkpoints: new Map<unknown, unknown>([[10, { epoch: 10, path: 'data/checkpoints/10.h5', hash: HASH }]]),
      } as Record<string, unknown>,
    } as Record<string, unknown>,
  };
}

type Metadata = ReturnType<typeof validMetadata>;

/** Validates the metadata after writing it to YAML text and reading it back, as from a file. */
function offencesOf(change: (metadata: Metadata) => void = () => {}, text?: string): string[] {
  const metadata = validMetadata();
  change(metadata);
  const reading = readYaml(text ?? writeYaml(metadata));
  if (!reading.ok) throw new Error(reading.problems.join('\n'));
  return validateMetadata(reading.value).offences.map((offence) => `${offence.field}: ${offence.message}`);
}

const training = (metadata: Metadata) => metadata.model.training as Record<string, unknown>;

describe('validateMetadata', () => {
  it('accepts valid metadata and returns it typed', () => {
    const reading = readYaml(writeYaml(validMetadata()));
    const result = validateMetadata(reading.ok ? reading.value : null);
    expect(result.offences).toEqual([]);
    expect(result.metadata?.model.training.checkpoints.get(10)?.path).toBe('data/checkpoints/10.h5');
    expect(result.metadata?.model.training.latest).toBe(10);
  });

  it('requires a mapping document', () => {
    expect(offencesOf(undefined, '- a\n- b\n')).toEqual(['(document): must be a mapping']);
  });

  it('reports missing and unexpected fields', () => {
    const offences = offencesOf((metadata) => {
      delete (metadata.model as Record<string, unknown>).id;
      (metadata.model as Record<string, unknown>).colour = 'red';
    });
    expect(offences).toEqual(['model.id: is missing', 'model.colour: is not a field of this section']);
  });

  it.each([
    ['format.version', (m: Metadata) => Object.assign(m.format, { version: '2.0.0' }), /must be the string "1.0.0"/],
    [
      'format.producer.name',
      (m: Metadata) => Object.assign(m.format.producer, { name: '_bad name' }),
      /must start with a letter/,
    ],
    [
      'format.producer.version',
      (m: Metadata) => Object.assign(m.format.producer.version, { format: 'calver' }),
      /Unknown version format/,
    ],
    [
      'format.producer.version',
      (m: Metadata) => Object.assign(m.format.producer.version, { value: 'not a version' }),
      /not a PEP 440 version/,
    ],
    ['model.name', (m: Metadata) => Object.assign(m.model, { name: 12 }), /must be a string or null/],
    [
      'model.configuration.hash',
      (m: Metadata) => Object.assign(m.model, { configuration: { path: 'c.yaml', hash: 'XYZ' } }),
      /MD5/,
    ],
    [
      'model.configuration.path',
      (m: Metadata) => Object.assign(m.model, { configuration: { path: '../outside.yaml', hash: HASH } }),
      /inside the model root/,
    ],
    [
      'model.configuration.path',
      (m: Metadata) => Object.assign(m.model, { configuration: { path: '/etc/passwd', hash: HASH } }),
      /not absolute/,
    ],
    ['model.initialisation', (m: Metadata) => Object.assign(m.model, { initialisation: { weights: {} } }), /null, a/],
    [
      'model.initialisation.pmf.checkpoint',
      (m: Metadata) =>
        Object.assign(m.model, {
          initialisation: { pmf: { name: null, id: 'x', checkpoint: 1.5, path: 'data/initialisation' } },
        }),
      /string or an integer/,
    ],
    [
      'model.initialisation.file.path',
      (m: Metadata) =>
        Object.assign(m.model, { initialisation: { file: { name: 'w', path: 'C:\\weights.h5', hash: HASH } } }),
      /not absolute/,
    ],
    ['model.training.status', (m: Metadata) => Object.assign(training(m), { status: 'paused' }), /one of pending/],
    ['model.training.start_epoch', (m: Metadata) => Object.assign(training(m), { start_epoch: 1.5 }), /integer/],
    ['model.training.start_time', (m: Metadata) => Object.assign(training(m), { start_time: 'noon' }), /number/],
    ['model.training.checkpoints', (m: Metadata) => Object.assign(training(m), { checkpoints: null }), /use \{\}/],
    [
      'model.training.checkpoints.10.epoch',
      (m: Metadata) =>
        Object.assign(training(m), {
          checkpoints: new Map([[10, { epoch: 'ten', path: 'data/checkpoints/10.h5', hash: HASH }]]),
        }),
      /must be an integer/,
    ],
  ])('checks %s', (field, change, message) => {
    const offences = offencesOf(change);
    expect(offences.some((offence) => offence.startsWith(`${field}:`) && message.test(offence))).toBe(true);
  });

  it('tells a float epoch written 10.0 from an integer, as PyYAML does', () => {
    const text = writeYaml(validMetadata()).replace('start_epoch: 0', 'start_epoch: 0.0');
    expect(offencesOf(undefined, text)).toEqual(['model.training.start_epoch: must be an integer or null']);
  });

  describe('training rules', () => {
    const rule = (changes: Record<string, unknown>) => offencesOf((m) => Object.assign(training(m), changes));

    it('pairs every time with its epoch and back', () => {
      expect(rule({ end_time: null })).toContain('model.training.end_epoch: end_epoch is set without an end_time');
      expect(rule({ start_epoch: null })).toContain(
        'model.training.start_time: start_time is set without a start_epoch',
      );
    });

    it('requires latest before end and start before latest', () => {
      expect(rule({ latest_time: null, latest_epoch: null })).toEqual(
        expect.arrayContaining([
          'model.training.end_time: end_time is set without a latest_time',
          'model.training.end_epoch: end_epoch is set without a latest_epoch',
        ]),
      );
      expect(rule({ start_time: null, start_epoch: null })).toEqual(
        expect.arrayContaining(['model.training.latest_time: latest_time is set without a start_time']),
      );
    });

    it('orders start ≤ latest ≤ end for times and epochs', () => {
      expect(rule({ start_time: 300 })).toContain(
        'model.training.latest_time: latest_time (200) is before start_time (300)',
      );
      expect(rule({ end_epoch: 9 })).toContain('model.training.end_epoch: end_epoch (9) is before latest_epoch (10)');
    });

    it('allows no times or epochs while pending, and no end while running', () => {
      const pending = rule({ status: 'pending' });
      expect(pending.filter((offence) => offence.includes('while the status is pending'))).toHaveLength(6);
      const running = rule({ status: 'running' });
      expect(running).toEqual([
        'model.training.end_time: end_time is set while the status is running',
        'model.training.end_epoch: end_epoch is set while the status is running',
      ]);
    });

    it('requires latest to name a registered checkpoint', () => {
      expect(rule({ latest: '10' })).toEqual([
        'model.training.latest: latest names "10", which is not a registered checkpoint',
      ]);
    });

    it('refuses checkpoints from after latest_epoch', () => {
      const checkpoints = new Map([[10, { epoch: 11, path: 'data/checkpoints/10.h5', hash: HASH }]]);
      expect(rule({ checkpoints })).toEqual([
        'model.training.checkpoints.10.epoch: checkpoint 10 has epoch 11, after latest_epoch 10',
      ]);
    });

    it('accepts a pending model with nothing recorded', () => {
      expect(
        rule({
          status: 'pending',
          start_time: null,
          start_epoch: null,
          latest_time: null,
          latest_epoch: null,
          end_time: null,
          end_epoch: null,
          latest: null,
          checkpoints: new Map(),
        }),
      ).toEqual([]);
    });
  });

  it('reports every offence of a badly broken file at once', () => {
    const offences = offencesOf((m) => {
      Object.assign(m.format, { version: 1 });
      Object.assign(m.model, { id: null, configuration: { path: '', hash: 'x' } });
      Object.assign(training(m), { status: 'done', latest_epoch: 'x' });
    });
    expect(offences.map((offence) => offence.split(':')[0])).toEqual([
      'format.version',
      'model.id',
      'model.configuration.path',
      'model.configuration.hash',
      'model.training.status',
      'model.training.latest_epoch',
    ]);
  });
});
