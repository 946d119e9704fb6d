/** Every picture the user may see, as a virtualised gallery filtered by tags (all of them must match). */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { api } from '../../api/api-client.js';
import { encodeQuery } from '../../api/query-string.js';
import { AuthImage } from '../../components/auth-image.js';
import { PagedSource } from '../../components/paged-source.js';
import { Problem } from '../../components/problem.js';
import { VirtualGrid } from '../../components/virtual-grid.js';
import { Link } from '../../router/router.js';
import type { Asset } from './datalake-types.js';

const encodePath = (path: string) => path.split('/').map(encodeURIComponent).join('/');

/**
 * A plain asset document (Marcelle's): no thumbnail exists, so a picture is shown from its
 * url route itself and anything else as a file tile; a click downloads it.
 */
function PlainAssetTile({ asset, url }: { asset: Asset; url: string }) {
  const name = asset.filename ?? url.split('/').at(-1) ?? asset._id;
  const path = `/assets/${encodePath(url)}`;
  const extension = (asset.extension ?? name.split('.').at(-1) ?? '').replace(/^\./, '');
  return (
    <button type="button" class="thumb plain-asset" title={name} onClick={() => api.download(path, name)}>
      {asset.mime?.startsWith('image/') ? (
        <AuthImage path={path} alt={name} />
      ) : (
        <span class="file-tile" role="img" aria-label={`${name} (file)`}>
          {extension.toUpperCase() || 'FILE'}
        </span>
      )}
      <span class="thumb-name">{name}</span>
    </button>
  );
}

export function Thumbnail({ asset, href, versionId }: { asset: Asset; href: string; versionId?: string }) {
  if (!asset.sha256 && typeof asset.url === 'string') return <PlainAssetTile asset={asset} url={asset.url} />;
  const suffix = versionId ? `?version=${encodeURIComponent(versionId)}` : '';
  return (
    <Link href={href} class="thumb" title={asset.filename ?? asset._id}>
      <AuthImage
        path={`/assets/${encodeURIComponent(asset._id)}/thumbnail${suffix}`}
        alt={asset.filename ?? asset._id}
      />
      <span class="thumb-name">{asset.filename ?? asset._id}</span>
    </Link>
  );
}

export function GalleryPage() {
  const [tagText, setTagText] = useState('');
  const [tags, setTags] = useState<string[]>([]);
  const [, setVersion] = useState(0);
  const query = useMemo(
    () =>
      encodeQuery({
        mime: { $exists: true },
        ...(tags.length > 0 ? { tags: { $all: tags } } : {}),
        $sort: { createdAt: -1 },
      }),
    [tags],
  );
  const source = useMemo(() => new PagedSource<Asset>('/assets', query, () => setVersion((v) => v + 1), 120), [query]);
  useEffect(() => {
    void source.start();
    return () => source.close();
  }, [source]);
  const onRange = useCallback((first: number, last: number) => source.want(first, last), [source]);
  return (
    <div class="gallery-page">
      <form
        class="toolbar"
        onSubmit={(event) => {
          event.preventDefault();
          setTags(
            tagText
              .split(',')
              .map((tag) => tag.trim())
              .filter(Boolean),
          );
        }}
      >
        <input
          aria-label="Tags"
          placeholder="tags, comma-separated (pictures with all of them)"
          value={tagText}
          onInput={(event) => setTagText(event.currentTarget.value)}
        />
        <button type="submit">Filter</button>
        <span class="count">{source.ready ? `${source.total.toLocaleString('en')} pictures` : ''}</span>
      </form>
      {source.error && <Problem error={source.error} what="pictures" />}
      <VirtualGrid
        label="Pictures"
        count={source.total}
        tile={150}
        onRange={onRange}
        render={(index) => {
          const asset = source.item(index);
          return asset ? <Thumbnail asset={asset} href={`/pictures/${encodeURIComponent(asset._id)}`} /> : null;
        }}
      />
    </div>
  );
}
