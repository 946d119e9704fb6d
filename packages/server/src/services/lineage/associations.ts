/**
 * A run's associations: what it used (`inputs`) and produced (`outputs`), each
 * `{ kind, id }` with kind `run`, `artifact`, `model-version` or `dataset-version`. The
 * server keeps flat `inputIds`/`outputIds` (`"<kind>:<id>"`) beside them for lineage queries.
 */
import { isValidRecordId, LarderError } from '@larder/protocol';

export const NODE_KINDS = ['run', 'artifact', 'model-version', 'dataset-version'] as const;
export type NodeKind = (typeof NODE_KINDS)[number];
export type NodeRef = { kind: NodeKind; id: string };

const MAX_ASSOCIATIONS = 10_000;

export function nodeKey(node: NodeRef): string {
  return `${node.kind}:${node.id}`;
}

export function parseNode(value: unknown, what: string): NodeRef {
  const { kind, id } = (value ?? {}) as { kind?: unknown; id?: unknown };
  if (typeof kind !== 'string' || !(NODE_KINDS as readonly string[]).includes(kind) || !isValidRecordId(id)) {
    throw new LarderError('BadRequest', `${what} must be { kind: ${NODE_KINDS.join(' | ')}, id }`);
  }
  return { kind: kind as NodeKind, id };
}

/** Validates `associations`; answers the flat id lists to store beside it. */
export function associationIndexes(value: unknown): { inputIds: string[]; outputIds: string[] } {
  if (value === undefined || value === null) return { inputIds: [], outputIds: [] };
  const { inputs = [], outputs = [] } = value as { inputs?: unknown; outputs?: unknown };
  if (typeof value !== 'object' || Array.isArray(value) || !Array.isArray(inputs) || !Array.isArray(outputs)) {
    throw new LarderError('BadRequest', '"associations" must be { inputs: [{ kind, id }], outputs: [{ kind, id }] }');
  }
  if (inputs.length + outputs.length > MAX_ASSOCIATIONS) {
    throw new LarderError('BadRequest', `A run has at most ${MAX_ASSOCIATIONS} associations`);
  }
  return {
    inputIds: [...new Set(inputs.map((node, index) => nodeKey(parseNode(node, `associations.inputs[${index}]`))))],
    outputIds: [...new Set(outputs.map((node, index) => nodeKey(parseNode(node, `associations.outputs[${index}]`))))],
  };
}
