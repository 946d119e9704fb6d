/**
 * A dataset version: its labels with how many annotations each has, review progress, and
 * its pictures as a virtualised gallery that opens each picture with its annotations.
 */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { api } from '../../api/api-client.js';
import { encodeQuery } from '../../api/query-string.js';
import { colorFor } from '../../charts/chart-colors.js';
import { PagedSource } from '../../components/paged-source.js';
import { Loading, Problem } from '../../components/problem.js';
import { useLoad } from '../../components/use-load.js';
import { VirtualGrid } from '../../components/virtual-grid.js';
import { Link } from '../../router/router.js';
import type { DatasetVersion, Label, Member } from './datalake-types.js';
import { Thumbnail } from './gallery-page.js';

const STATUSES = ['pending', 'accepted', 'rejected'] as const;

async function countAnnotations(
  versionId: string,
  extra: Record<string, string>,
  signal: AbortSignal,
): Promise<number> {
  const page = await api.request<{ total: number }>(
    'GET',
    `/annotations?${encodeQuery({ versionId, ...extra, $limit: 0 })}`,
    undefined,
    signal,
  );
  return page.total;
}

async function loadVersion(versionId: string, signal: AbortSignal) {
  const [version, labels] = await Promise.all([
    api.get<DatasetVersion>('dataset-versions', versionId, signal),
    api.find<Label>('dataset-labels', { versionId, $limit: 1000, $sort: { createdAt: 1 } }, signal),
  ]);
  const [perLabel, perStatus] = await Promise.all([
    Promise.all(labels.data.map((label) => countAnnotations(versionId, { labelId: label._id }, signal))),
    Promise.all(STATUSES.map((status) => countAnnotations(versionId, { status }, signal))),
  ]);
  return { version, labels: labels.data, perLabel, perStatus };
}

export function VersionPage({ versionId }: { versionId: string }) {
  const loaded = useLoad((signal) => loadVersion(versionId, signal), [versionId]);
  const [, setTick] = useState(0);
  const source = useMemo(
    () =>
      new PagedSource<Member>(
        '/dataset-members',
        encodeQuery({ versionId, expand: 'asset' }),
        () => setTick((t) => t + 1),
        100,
      ),
    [versionId],
  );
  useEffect(() => {
    void source.start();
    return () => source.close();
  }, [source]);
  const onRange = useCallback((first: number, last: number) => source.want(first, last), [source]);

  if (loaded.state === 'failed') return <Problem error={loaded.error} what="dataset version" />;
  if (loaded.state === 'loading') return <Loading what="dataset version" />;
  const { version, labels, perLabel, perStatus } = loaded.value;
  const most = Math.max(1, ...perLabel);
  const total = perStatus.reduce((sum, count) => sum + count, 0);
  return (
    <article class="version-page">
      <p class="crumbs">
        <Link href="/datasets">Datasets</Link> / {version.name}
      </p>
      <h1>
        {version.name} <span class="tag">{version.published ? 'published' : 'draft'}</span>
      </h1>
      <p class="muted">
        {version.assetCount} pictures · {total} annotations
      </p>
      <div class="version-stats">
        <section>
          <h2>Labels</h2>
          <div class="bars">
            {labels.map((label, index) => (
              <div key={label._id} class="bar-row">
                <span class="bar-label">
                  {label.name} <span class="muted">{label.type}</span>
                </span>
                <span
                  class="bar"
                  style={{ width: `${((perLabel[index] ?? 0) / most) * 100}%`, background: colorFor(index) }}
                />
                <span class="bar-value">{perLabel[index]}</span>
              </div>
            ))}
          </div>
        </section>
        <section>
          <h2>Review</h2>
          <div class="review-bar">
            {STATUSES.map((status, index) => (
              <span
                key={status}
                class={`review-${status}`}
                style={{ flexGrow: String(perStatus[index] ?? 0) }}
                title={`${status}: ${perStatus[index]}`}
              />
            ))}
          </div>
          <p>
            {STATUSES.map((status, index) => (
              <span key={status} class={`review review-${status}`}>
                {status} {perStatus[index]}
              </span>
            ))}
          </p>
        </section>
      </div>
      {source.error && <Problem error={source.error} what="pictures" />}
      <VirtualGrid
        label="Pictures of the version"
        count={source.total}
        tile={150}
        onRange={onRange}
        render={(index) => {
          const member = source.item(index);
          if (!member?.asset) return null;
          return (
            <Thumbnail
              asset={member.asset}
              versionId={versionId}
              href={`/datasets/${encodeURIComponent(versionId)}/${encodeURIComponent(member.assetId)}`}
            />
          );
        }}
      />
    </article>
  );
}
