/**
 * MLflow dataset inputs (`mlflow.log_input`) as Larder lineage: the dataset named like
 * MLflow's (one per owner, made on first use) gets a version named after the digest, and the
 * run lists that version among its `associations.inputs`, so `/lineage` and the dashboard
 * show what the run used. The dataset and version are made through their services as the
 * caller; a name Larder cannot hold leaves the input without a lineage link.
 */
import { LarderError } from '@larder/protocol';
import type { EndpointDeps, MlflowCall } from '../mlflow-endpoints.js';

type Found = { data?: { _id: string; userId?: unknown }[] } | { _id: string; userId?: unknown }[];

const rows = (found: Found) => (Array.isArray(found) ? found : (found.data ?? []));

export class DatasetLineage {
  constructor(private readonly deps: EndpointDeps) {}

  private async findOrCreate(
    service: string,
    query: Record<string, unknown>,
    body: Record<string, unknown>,
    call: MlflowCall,
  ): Promise<string> {
    const actor = call.actor;
    const find = async () => {
      const found = rows(
        (await this.deps.app.service(service).find({ ...call.params, query: { ...query, $limit: 20 } })) as Found,
      );
      const own = actor.kind === 'user' ? found.find((row) => row.userId === actor.user._id) : found[0];
      return own?._id;
    };
    const existing = await find();
    if (existing) return existing;
    try {
      return ((await this.deps.app.service(service).create(body, call.params)) as { _id: string })._id;
    } catch (error) {
      // Made at the same moment by another call: use that one.
      if (error instanceof LarderError && error.name === 'Conflict') {
        const again = await find();
        if (again) return again;
      }
      throw error;
    }
  }

  /** The id of the Larder dataset version standing for an MLflow dataset, or undefined when it cannot be named so. */
  async versionOf(
    call: MlflowCall,
    dataset: { name: string; digest: string; source_type: string; source: string },
  ): Promise<string | undefined> {
    try {
      const datasetId = await this.findOrCreate(
        'datasets',
        { name: dataset.name },
        { name: dataset.name, description: `MLflow dataset (${dataset.source_type})` },
        call,
      );
      return await this.findOrCreate(
        'dataset-versions',
        { datasetId, name: dataset.digest },
        {
          datasetId,
          name: dataset.digest,
          from: null,
          description: `MLflow dataset ${dataset.name}@${dataset.digest} from ${dataset.source_type}`.slice(0, 1000),
        },
        call,
      );
    } catch (error) {
      if (error instanceof LarderError && error.name === 'BadRequest') {
        this.deps.log(`mlflow: dataset ${dataset.name}@${dataset.digest} has no lineage link: ${error.message}`);
        return undefined;
      }
      throw error;
    }
  }
}
