/**
 * `GET /lineage?kind=<run|artifact|model-version|dataset-version>&id=<id>&direction=<upstream|downstream>&depth=<n>`:
 * the graph of what led to a node (upstream) or came from it (downstream), following runs'
 * inputs and outputs, through the runs the caller may read. Answers
 * `{ root, nodes: [{ kind, id, name? }], edges: [{ from, to }] }` where an edge goes from
 * an input to the run that used it, or from a run to what it produced.
 */
import { and, eq, LarderError } from '@larder/protocol';
import { actorOf } from '../../auth/actor.js';
import { folderPolicy } from '../../auth/folder-policy.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import type { DocumentParams } from '../documents/document-service.js';
import { RUNS_COLLECTION } from '../runs/runs-service.js';
import { type NodeRef, nodeKey, parseNode } from './associations.js';

const MAX_DEPTH = 20;
const MAX_NODES = 5000;

type Direction = 'upstream' | 'downstream';

function fromKey(key: string): NodeRef {
  const cut = key.indexOf(':');
  return { kind: key.slice(0, cut) as NodeRef['kind'], id: key.slice(cut + 1) };
}

export class LineageService {
  constructor(
    private readonly store: DocumentStore,
    private readonly authEnabled: boolean,
  ) {}

  async find(params?: DocumentParams) {
    const actor = actorOf(params ?? {}, this.authEnabled);
    if (actor.kind === 'anonymous') throw new LarderError('NotAuthenticated', 'Sign in to read lineage');
    const query = (params?.query ?? {}) as Record<string, unknown>;
    const root = parseNode(query, 'The query');
    const direction = (query.direction ?? 'upstream') as Direction;
    if (direction !== 'upstream' && direction !== 'downstream') {
      throw new LarderError('BadRequest', 'direction is upstream or downstream');
    }
    const depth = query.depth === undefined ? MAX_DEPTH : Number(query.depth);
    if (!Number.isInteger(depth) || depth < 1 || depth > MAX_DEPTH) {
      throw new LarderError('BadRequest', `depth is a whole number from 1 to ${MAX_DEPTH}`);
    }
    const readable = folderPolicy.readFilter(actor);
    const runs = new Map<string, StoredDocument>();
    const runById = async (id: string) => {
      if (!runs.has(id)) {
        const [run] = await this.store.find(RUNS_COLLECTION, { filter: and(eq(['_id'], id), readable), limit: 1 });
        if (run) runs.set(id, run);
      }
      return runs.get(id);
    };
    if (root.kind === 'run' && !(await runById(root.id)))
      throw new LarderError('NotFound', `No run ${root.id} that you may see`);

    const nodes = new Map<string, NodeRef>([[nodeKey(root), root]]);
    const edges = new Map<string, { from: NodeRef; to: NodeRef }>();
    const addEdge = (from: NodeRef, to: NodeRef) => edges.set(`${nodeKey(from)}>${nodeKey(to)}`, { from, to });
    let frontier = [root];
    for (let level = 0; level < depth && frontier.length > 0 && nodes.size < MAX_NODES; level += 1) {
      const next: NodeRef[] = [];
      const visit = (node: NodeRef) => {
        if (!nodes.has(nodeKey(node))) {
          nodes.set(nodeKey(node), node);
          next.push(node);
        }
      };
      for (const node of frontier) {
        // Runs linked to this node through their own lists.
        const field = direction === 'upstream' ? 'outputIds' : 'inputIds';
        const linked = await this.store.find(RUNS_COLLECTION, {
          filter: and(eq([field], nodeKey(node)), readable),
          limit: MAX_NODES,
        });
        for (const run of linked) {
          runs.set(run._id, run);
          const runNode: NodeRef = { kind: 'run', id: run._id };
          if (direction === 'upstream') addEdge(runNode, node);
          else addEdge(node, runNode);
          visit(runNode);
        }
        // A run's own inputs (upstream) or outputs (downstream).
        if (node.kind === 'run') {
          const run = await runById(node.id);
          const keys = ((direction === 'upstream' ? run?.inputIds : run?.outputIds) ?? []) as string[];
          for (const key of keys) {
            const other = fromKey(key);
            if (direction === 'upstream') addEdge(other, node);
            else addEdge(node, other);
            visit(other);
          }
        }
      }
      frontier = next;
    }
    return {
      root,
      direction,
      nodes: [...nodes.values()].map((node) => {
        const run = node.kind === 'run' ? runs.get(node.id) : undefined;
        return run ? { ...node, name: run.name, status: run.status } : node;
      }),
      edges: [...edges.values()],
    };
  }
}
