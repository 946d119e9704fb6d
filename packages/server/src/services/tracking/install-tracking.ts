/**
 * Experiment tracking: folders and organisations (sharing), runs, their metric points,
 * and (as they land) artifacts and lineage.
 */
import type { FeatureContext } from '../../app/feature.js';
import { ARTIFACTS_COLLECTION, ArtifactsService } from '../artifacts/artifacts-service.js';
import { FoldersService } from '../folders/folders-service.js';
import { LineageService } from '../lineage/lineage-service.js';
import { metricColumnsRoute } from '../metrics/metric-columns-route.js';
import { MetricsService } from '../metrics/metrics-service.js';
import { OrganizationInvitationsService } from '../organizations/organization-invitations-service.js';
import { OrganizationsService } from '../organizations/organizations-service.js';
import { RunLogsService } from '../run-logs/run-logs-service.js';
import { RUNS_COLLECTION, RunsService } from '../runs/runs-service.js';
import { trackingFileRoutes } from './tracking-file-routes.js';

const RECORD_METHODS = ['find', 'get', 'create', 'update', 'patch', 'remove'];

export function installTracking(context: FeatureContext): void {
  const { app, store, blobs, metrics, authEnabled, actorFor, useRoute } = context;
  useRoute(trackingFileRoutes({ store, blobs, actorFor }));
  useRoute(metricColumnsRoute(app, actorFor));
  const folders = new FoldersService(store, authEnabled, [RUNS_COLLECTION, ARTIFACTS_COLLECTION]);
  app.use('folders', folders, { methods: RECORD_METHODS });
  if (authEnabled) {
    const organizations = new OrganizationsService(store, authEnabled);
    app.use('organizations', organizations, { methods: RECORD_METHODS });
    app.use('organization-invitations', new OrganizationInvitationsService(store, authEnabled, organizations), {
      methods: RECORD_METHODS,
    });
  }
  app.use('runs', new RunsService(store, blobs, authEnabled, folders.tree, metrics), { methods: RECORD_METHODS });
  app.use('artifacts', new ArtifactsService(store, blobs, authEnabled, folders.tree), { methods: RECORD_METHODS });
  app.use('lineage', new LineageService(store, authEnabled), { methods: ['find'] });
  app.use('metrics', new MetricsService(store, metrics, authEnabled), {
    methods: ['find', 'create'],
    events: ['points'],
  });
  app.use('run-logs', new RunLogsService(store, authEnabled), { methods: ['find', 'create'], events: ['chunk'] });
}
