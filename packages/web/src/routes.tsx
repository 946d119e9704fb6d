/** Which page each dashboard path shows. Pages other than the runs table load on demand. */
import type { VNode } from 'preact';
import { lazyPage } from './components/lazy-page.js';
import { RunsPage } from './pages/runs/runs-page.js';
import { matchPath, navigate } from './router/router.js';

const RunPage = lazyPage(() => import('./pages/run/run-page.js').then((m) => m.RunPage));
const ComparePage = lazyPage(() => import('./pages/compare/compare-page.js').then((m) => m.ComparePage));
const ModelsPage = lazyPage(() => import('./pages/models/models-page.js').then((m) => m.ModelsPage));
const ModelPage = lazyPage(() => import('./pages/models/model-page.js').then((m) => m.ModelPage));
const GalleryPage = lazyPage(() => import('./pages/datalake/gallery-page.js').then((m) => m.GalleryPage));
const PicturePage = lazyPage(() => import('./pages/datalake/picture-page.js').then((m) => m.PicturePage));
const DatasetsPage = lazyPage(() => import('./pages/datalake/datasets-page.js').then((m) => m.DatasetsPage));
const VersionPage = lazyPage(() => import('./pages/datalake/version-page.js').then((m) => m.VersionPage));
const StockPage = lazyPage(() => import('./pages/stock/stock-page.js').then((m) => m.StockPage));
const RepositoryPage = lazyPage(() => import('./pages/stock/repository-page.js').then((m) => m.RepositoryPage));
const ServicesPage = lazyPage(() => import('./pages/services/services-page.js').then((m) => m.ServicesPage));

type Route = [pattern: string, page: (params: Record<string, string>) => VNode];

const ROUTES: Route[] = [
  ['/runs', () => <RunsPage />],
  ['/runs/:id', ({ id = '' }) => <RunPage key={id} id={id} />],
  ['/compare/:ids', ({ ids = '' }) => <ComparePage ids={ids.split(',').filter(Boolean)} />],
  ['/models', () => <ModelsPage />],
  ['/models/:id', ({ id = '' }) => <ModelPage key={id} id={id} />],
  ['/datalake', () => <GalleryPage />],
  ['/pictures/:id', ({ id = '' }) => <PicturePage key={id} assetId={id} />],
  ['/datasets', () => <DatasetsPage />],
  ['/datasets/:versionId', ({ versionId = '' }) => <VersionPage key={versionId} versionId={versionId} />],
  [
    '/datasets/:versionId/:assetId',
    ({ versionId = '', assetId = '' }) => <PicturePage key={assetId} assetId={assetId} versionId={versionId} />,
  ],
  ['/stock', () => <StockPage />],
  ['/stock/:id', ({ id = '' }) => <RepositoryPage key={id} id={id} />],
  ['/services', () => <ServicesPage />],
  ['/services/:name', ({ name = '' }) => <ServicesPage key={name} name={name} />],
];

export function routeFor(path: string): VNode {
  for (const [pattern, page] of ROUTES) {
    const params = matchPath(pattern, path);
    if (params) return page(params);
  }
  if (path === '/' || path === '') {
    queueMicrotask(() => navigate('/runs', { replace: true }));
    return <RunsPage />;
  }
  return (
    <div class="problem" role="alert">
      <strong>No page at {path}.</strong>
    </div>
  );
}
