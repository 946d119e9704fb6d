/**
 * Names for the nodes of a lineage graph: the server names runs itself; artifacts, model
 * versions (`<model> v<n>`) and dataset versions (`<dataset> / <version>`) are looked up
 * by id, one `find` per kind. A node the user may not read keeps its id.
 */
import { api } from '../../api/api-client.js';

export interface LineageNode {
  kind: string;
  id: string;
  name?: string;
}

export const nodeKey = (node: { kind: string; id: string }) => `${node.kind}:${node.id}`;

async function namesById(
  service: string,
  ids: string[],
  fields: string[],
  signal: AbortSignal,
): Promise<Map<string, Record<string, unknown>>> {
  if (ids.length === 0) return new Map();
  const page = await api
    .find<Record<string, unknown>>(service, { _id: { $in: ids }, $select: fields, $limit: ids.length }, signal)
    .catch(() => ({ data: [] as Record<string, unknown>[] }));
  return new Map(page.data.map((record) => [String(record._id), record]));
}

/** `kind:id` → a name to show, for every node that has one. */
export async function lineageNames(nodes: readonly LineageNode[], signal: AbortSignal): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const idsOf = (kind: string) => [...new Set(nodes.filter((node) => node.kind === kind).map((node) => node.id))];
  for (const node of nodes) if (node.name) names.set(nodeKey(node), node.name);
  const [artifacts, modelVersions, datasetVersions] = await Promise.all([
    namesById('artifacts', idsOf('artifact'), ['name'], signal),
    namesById('model-versions', idsOf('model-version'), ['modelId', 'version'], signal),
    namesById('dataset-versions', idsOf('dataset-version'), ['datasetId', 'name'], signal),
  ]);
  const ownerIds = (records: Map<string, Record<string, unknown>>, field: string) => [
    ...new Set([...records.values()].map((record) => String(record[field]))),
  ];
  const [models, datasets] = await Promise.all([
    namesById('models', ownerIds(modelVersions, 'modelId'), ['name'], signal),
    namesById('datasets', ownerIds(datasetVersions, 'datasetId'), ['name'], signal),
  ]);
  for (const [id, record] of artifacts) if (typeof record.name === 'string') names.set(`artifact:${id}`, record.name);
  for (const [id, record] of modelVersions) {
    const model = models.get(String(record.modelId))?.name;
    names.set(`model-version:${id}`, `${typeof model === 'string' ? model : 'model'} v${String(record.version)}`);
  }
  for (const [id, record] of datasetVersions) {
    const dataset = datasets.get(String(record.datasetId))?.name;
    names.set(`dataset-version:${id}`, `${typeof dataset === 'string' ? `${dataset} / ` : ''}${String(record.name)}`);
  }
  return names;
}
