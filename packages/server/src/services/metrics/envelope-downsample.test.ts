import { describe, expect, it } from 'vitest';
import { foldEnvelopes, GROUP_CHUNKS, SPAN_CHUNKS, spansOf } from '../../stores/chunk-envelope.js';
import { CHUNK_POINTS } from '../../stores/metric-store.js';
import { downsampleFromEnvelopes, splitChunks, splitSpans } from './envelope-downsample.js';
import { series } from './test-support/series-fixture.js';

describe('downsampling from envelopes', () => {
  const data = series(GROUP_CHUNKS * 2);
  const spans = [
    ...spansOf(data.envelopes.slice(0, GROUP_CHUNKS), data.parts.length),
    ...spansOf(data.envelopes.slice(GROUP_CHUNKS), data.parts.length),
  ];

  it('folds each span of chunks into what one envelope over their points would be', () => {
    expect(spans.map((span) => span.seq)).toEqual(
      Array.from({ length: (GROUP_CHUNKS * 2) / SPAN_CHUNKS }, (_, index) => index * SPAN_CHUNKS),
    );
    const spike = Math.floor(data.steps.length * 0.37);
    const holder = spans.find((span) => span.maxValue === 50);
    expect(holder?.maxStep).toBe(data.steps[spike]);
    // Indexes count from the span's first point.
    expect((holder?.seq ?? 0) * CHUNK_POINTS + (holder?.maxIndex ?? 0)).toBe(spike);
    // The segments' extremes are the chunk's: folding them gives the chunk's envelope.
    expect(foldEnvelopes(data.segments[20] ?? [])).toEqual(data.envelopes[20]);
  });

  it('gives a span none while a chunk of it has no envelope', () => {
    const partial = spansOf(data.envelopes.slice(3, GROUP_CHUNKS), data.parts.length);
    expect(partial.map((span) => span.seq)).toEqual(
      Array.from({ length: GROUP_CHUNKS / SPAN_CHUNKS - 1 }, (_, index) => (index + 1) * SPAN_CHUNKS),
    );
    // Nor does the last span while the series holds a chunk of it the group row lacks.
    expect(spansOf(data.envelopes.slice(0, 12), 13).map((span) => span.seq)).toEqual([0]);
  });

  it('splits spans and chunks against a range: inside, outside, or to look at closer', () => {
    const fromStep = 2 * CHUNK_POINTS * 20 + 1;
    const toStep = 2 * CHUNK_POINTS * 40;
    const bySpans = splitSpans(data.parts.length, spans, { fromStep, toStep });
    expect(bySpans.inside.map((span) => span.seq)).toEqual([24, 32]);
    expect(bySpans.closer).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 40, 41, 42, 43, 44, 45, 46, 47]);
    const byChunks = splitChunks(bySpans.closer, data.envelopes, { fromStep, toStep });
    expect(byChunks.inside.map((envelope) => envelope.seq)).toEqual([21, 22, 23]);
    expect(byChunks.closer).toEqual([20, 40]);
  });

  it('answers the same extremes from spans as from the chunks they hold', () => {
    const fromSpans = downsampleFromEnvelopes(spans, 4, [], {});
    const fromChunks = downsampleFromEnvelopes(data.envelopes, 4, [], {});
    expect(fromSpans.count).toBe(data.steps.length);
    expect(fromSpans).toEqual(fromChunks);
    expect(fromSpans.values).toContain(50);
    expect(fromSpans.values).toContain(-50);
  });
});
