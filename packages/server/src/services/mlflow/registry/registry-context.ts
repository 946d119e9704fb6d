/**
 * What the registry and logged-model endpoints share: the Larder services they write
 * through (so permissions, events and the registry's own rules apply), and the artifact
 * records that model files are copied from.
 */
import type { FeatureContext } from '../../../app/feature.js';
import type { ModelVersionsService } from '../../registry/model-versions-service.js';
import { MODEL_VERSIONS_COLLECTION, type ModelsService } from '../../registry/models-service.js';
import { ArtifactFiles } from '../artifacts/artifact-files.js';
import { ArtifactOwners } from '../artifacts/artifact-owners.js';
import { LoggedModels } from './logged-models.js';

export interface RegistryContext {
  feature: FeatureContext;
  models: ModelsService;
  versions: ModelVersionsService;
  owners: ArtifactOwners;
  files: ArtifactFiles;
  loggedModels: LoggedModels;
}

export function registryContext(feature: FeatureContext): RegistryContext {
  const files = new ArtifactFiles(feature.store, feature.blobs);
  const owners = new ArtifactOwners(feature.store);
  return {
    feature,
    // Looked up when called: the registry feature may be installed after this one.
    get models() {
      return feature.app.service('models') as unknown as ModelsService;
    },
    get versions() {
      return feature.app.service(MODEL_VERSIONS_COLLECTION) as unknown as ModelVersionsService;
    },
    owners,
    files,
    loggedModels: new LoggedModels(feature.store, owners, files),
  };
}
