/**
 * Experiment tracking: folders and organisations (sharing), runs, their metric points,
 * and (as they land) artifacts and lineage.
 */
import type { FeatureContext } from '../../app/feature.js';
import { FoldersService } from '../folders/folders-service.js';
import { MetricsService } from '../metrics/metrics-service.js';
import { OrganizationsService } from '../organizations/organizations-service.js';
import { RUNS_COLLECTION, RunsService } from '../runs/runs-service.js';

const RECORD_METHODS = ['find', 'get', 'create', 'update', 'patch', 'remove'];

export function installTracking({ app, store, metrics, authEnabled }: FeatureContext): void {
  const folders = new FoldersService(store, authEnabled, [RUNS_COLLECTION]);
  app.use('folders', folders, { methods: RECORD_METHODS });
  if (authEnabled) app.use('organizations', new OrganizationsService(store, authEnabled), { methods: RECORD_METHODS });
  app.use('runs', new RunsService(store, authEnabled, folders.tree, metrics), { methods: RECORD_METHODS });
  app.use('metrics', new MetricsService(store, metrics, authEnabled), {
    methods: ['find', 'create'],
    events: ['points'],
  });
}
