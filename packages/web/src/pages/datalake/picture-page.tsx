/**
 * One picture: its file with the annotations of a dataset version drawn on it (when opened
 * from a version), its size, type, tags and names.
 */
import { api } from '../../api/api-client.js';
import { encodeQuery } from '../../api/query-string.js';
import { formatBytes, formatDate } from '../../components/format.js';
import { Loading, Problem } from '../../components/problem.js';
import { useLoad } from '../../components/use-load.js';
import { Link } from '../../router/router.js';
import { AnnotatedPicture } from './annotated-picture.js';
import type { Annotation, Asset, Label, Member } from './datalake-types.js';

interface Loaded {
  asset: Asset;
  annotations: Annotation[];
  labels: Label[];
}

async function loadPicture(assetId: string, versionId: string | undefined, signal: AbortSignal): Promise<Loaded> {
  if (!versionId) return { asset: await api.get<Asset>('assets', assetId, signal), annotations: [], labels: [] };
  const [members, annotations, labels] = await Promise.all([
    api.find<Member>('dataset-members', { versionId, assetId, expand: 'asset', $limit: 1 }, signal),
    api.request<{ data: Annotation[] }>(
      'GET',
      `/annotations?${encodeQuery({ versionId, assetId, $limit: 10_000 })}`,
      undefined,
      signal,
    ),
    api.find<Label>('dataset-labels', { versionId, $limit: 1000, $sort: { createdAt: 1 } }, signal),
  ]);
  const asset = members.data[0]?.asset;
  if (!asset) throw Object.assign(new Error('Not in this version'), { name: 'NotFound' });
  return { asset, annotations: annotations.data, labels: labels.data };
}

export function PicturePage({ assetId, versionId }: { assetId: string; versionId?: string }) {
  const loaded = useLoad((signal) => loadPicture(assetId, versionId, signal), [assetId, versionId]);
  if (loaded.state === 'failed') return <Problem error={loaded.error} what="picture" />;
  if (loaded.state === 'loading') return <Loading what="picture" />;
  const { asset, annotations, labels } = loaded.value;
  const counts = new Map<string, number>();
  for (const annotation of annotations) counts.set(annotation.labelId, (counts.get(annotation.labelId) ?? 0) + 1);
  return (
    <article class="picture-page">
      <p class="crumbs">
        {versionId ? (
          <Link href={`/datasets/${encodeURIComponent(versionId)}`}>Dataset version</Link>
        ) : (
          <Link href="/datalake">Datalake</Link>
        )}{' '}
        / {asset.filename}
      </p>
      <div class="picture-layout">
        <AnnotatedPicture
          asset={asset}
          annotations={annotations}
          labels={labels}
          {...(versionId ? { versionId } : {})}
        />
        <aside>
          <h2>{asset.filename ?? asset._id}</h2>
          <table class="data">
            <tbody>
              <tr>
                <th>Size</th>
                <td>
                  {asset.width} × {asset.height} px · {formatBytes(asset.size ?? 0)}
                </td>
              </tr>
              <tr>
                <th>Type</th>
                <td>{asset.mime}</td>
              </tr>
              <tr>
                <th>Added</th>
                <td>{formatDate(asset.createdAt)}</td>
              </tr>
              <tr>
                <th>Tags</th>
                <td>
                  {(asset.tags ?? []).map((tag) => (
                    <span key={tag} class="tag">
                      {tag}
                    </span>
                  ))}
                </td>
              </tr>
              {(asset.filenames ?? []).length > 1 && (
                <tr>
                  <th>Also named</th>
                  <td>{asset.filenames?.join(', ')}</td>
                </tr>
              )}
            </tbody>
          </table>
          {versionId && (
            <>
              <h3>Annotations ({annotations.length})</h3>
              <ul class="annotation-list">
                {annotations.map((annotation) => (
                  <li key={annotation._id}>
                    {labels.find((label) => label._id === annotation.labelId)?.name ?? annotation.labelId}{' '}
                    <span class="muted">{annotation.shape.type}</span>{' '}
                    <span class={`review review-${annotation.status}`}>{annotation.status}</span>
                  </li>
                ))}
              </ul>
            </>
          )}
        </aside>
      </div>
    </article>
  );
}
