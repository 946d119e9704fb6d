/**
 * The stock feature: repositories of versioned model weights, data and tags shared through
 * the server (`/stock-repos`), their pushed history (`/stock-commits`), and the exchange
 * routes push and pull use (`/stock-objects`, `/stock-refs`, `/stock-packs`). Small objects
 * travel and are stored in packs (one blob each, indexed by the server); others as blobs
 * under their own id. A repository holds its packs and the objects of every commit pushed to it.
 */
import type { FeatureContext } from '../../app/feature.js';
import { StockCommitsService } from './stock-commits-service.js';
import { stockExchangeRoutes } from './stock-exchange-routes.js';
import { STOCK_COMMITS, STOCK_REPOS } from './stock-names.js';
import { StockObjectAccess } from './stock-object-access.js';
import { stockPackRoutes } from './stock-pack-routes.js';
import { StockPacks } from './stock-packs.js';
import { StockRefMover } from './stock-ref-move.js';
import { StockReposService } from './stock-repos-service.js';

export function installStock(context: FeatureContext): void {
  const { app, store, blobs, authEnabled, actorFor, maxBlobBytes } = context;
  app.use(STOCK_REPOS, new StockReposService(store, authEnabled), {
    methods: ['find', 'get', 'create', 'update', 'patch', 'remove'],
  });
  app.use(STOCK_COMMITS, new StockCommitsService(store, authEnabled), { methods: ['find', 'get'] });
  const access = new StockObjectAccess(store, blobs);
  const packs = new StockPacks(store, blobs);
  const mover = new StockRefMover(store, blobs, access, packs);
  context.useRoute(stockExchangeRoutes({ store, blobs, access, mover, packs, actorFor }));
  context.useRoute(stockPackRoutes({ store, blobs, packs, maxBlobBytes, actorFor }));
}
