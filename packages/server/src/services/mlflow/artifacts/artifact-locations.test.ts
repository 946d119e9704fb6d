import { describe, expect, it } from 'vitest';
import { MlflowError } from '../mlflow-errors.js';
import { parseArtifactLocation, runArtifactUri } from './artifact-locations.js';

describe('artifact locations', () => {
  it("reads runs', logged models' and registry versions' trees as MLflow lays them out", () => {
    expect(parseArtifactLocation('7/r1/artifacts/model/MLmodel', { encoded: false })).toEqual({
      root: { kind: 'run', experimentId: '7', runId: 'r1' },
      path: 'model/MLmodel',
    });
    expect(parseArtifactLocation('7/r1/artifacts', { encoded: false }).path).toBe('');
    expect(parseArtifactLocation('7/models/m-1/artifacts/a%20b', { encoded: true })).toEqual({
      root: { kind: 'logged-model', experimentId: '7', modelId: 'm-1' },
      path: 'a b',
    });
    expect(parseArtifactLocation('model-versions/v1/artifacts/x', { encoded: false }).root).toEqual({
      kind: 'model-version',
      versionId: 'v1',
    });
    expect(runArtifactUri('7', 'r1')).toBe('mlflow-artifacts:/7/r1/artifacts');
  });

  it('refuses climbing, absolute, control-character and badly encoded paths', () => {
    const refused = [
      ['7/r1/artifacts/../x', false],
      ['7/r1/artifacts/%2e%2e/x', true],
      ['/etc/passwd', false],
      ['7/r1/artifacts/a\\b', false],
      ['7/r1/artifacts/a%00b', true],
      ['7/r1/artifacts/%E0%A4%A', true],
      ['7/r1', false],
    ] as const;
    for (const [path, encoded] of refused) {
      expect(() => parseArtifactLocation(path, { encoded }), path).toThrow(MlflowError);
    }
  });
});
