/**
 * A run's media on its page: an image panel per image name (a step slider over its
 * pictures) and a distribution chart per histogram name. Two requests in all, one per kind,
 * for every record of the run (the records hold no bytes: pictures are fetched as shown),
 * read again when the run's writer adds more (their `created` events).
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from '../../../api/api-client.js';
import { subscribe } from '../../../api/realtime.js';
import { Problem } from '../../../components/problem.js';
import { useLoad } from '../../../components/use-load.js';
import { DistributionChart } from './distribution-chart.js';
import type { HistogramRecord } from './histogram-quantiles.js';
import { ImagePanel, type ImageRecord } from './image-panel.js';

const MOST = 10_000;

function byName<T extends { name: string; step: number }>(records: readonly T[]): [string, T[]][] {
  const groups = new Map<string, T[]>();
  for (const record of records) {
    const group = groups.get(record.name) ?? [];
    group.push(record);
    groups.set(record.name, group);
  }
  for (const group of groups.values()) group.sort((a, b) => a.step - b.step);
  return [...groups].sort(([a], [b]) => a.localeCompare(b));
}

export function RunMedia({ runId }: { runId: string }) {
  // Bumped by `created` events of this run's media (a training run logging), to read again.
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const again = (record: { run?: string }) => {
      if (record.run !== runId || timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        setVersion((value) => value + 1);
      }, 500);
    };
    const subscriptions = [subscribe('run-images', 'created', again), subscribe('run-histograms', 'created', again)];
    return () => {
      clearTimeout(timer);
      for (const subscription of subscriptions) subscription.stop();
    };
  }, [runId]);
  const loaded = useLoad(
    (signal) =>
      Promise.all([
        api.find<ImageRecord>(
          'run-images',
          { run: runId, $limit: MOST, $select: ['name', 'step', 'caption', 'width', 'height'] },
          signal,
        ),
        api.find<HistogramRecord>(
          'run-histograms',
          { run: runId, $limit: MOST, $select: ['name', 'step', 'min', 'max', 'counts', 'count'] },
          signal,
        ),
      ]),
    [runId, version],
  );
  // While a new read is on its way the page keeps what it shows.
  const [kept, setKept] = useState<typeof loaded.value>(undefined);
  useEffect(() => {
    if (loaded.value) setKept(loaded.value);
  }, [loaded.value]);
  const value = loaded.value ?? kept;
  const images = useMemo(() => byName(value?.[0].data ?? []), [value]);
  const histograms = useMemo(() => byName(value?.[1].data ?? []), [value]);
  if (loaded.state === 'failed') return <Problem error={loaded.error} what="media" />;
  if (images.length === 0 && histograms.length === 0) return null;
  return (
    <section class="run-media">
      {images.length > 0 && (
        <>
          <h2>Images</h2>
          <div class="chart-grid">
            {images.map(([name, records]) => (
              <ImagePanel key={name} name={name} images={records} />
            ))}
          </div>
        </>
      )}
      {histograms.length > 0 && (
        <>
          <h2>Distributions</h2>
          <div class="chart-grid">
            {histograms.map(([name, records]) => (
              <DistributionChart key={name} name={name} histograms={records} />
            ))}
          </div>
        </>
      )}
    </section>
  );
}
