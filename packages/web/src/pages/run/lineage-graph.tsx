/**
 * A run's lineage as a graph: what it used to the left, what it produced to the right, a
 * column per step away (`GET /lineage`, upstream and downstream, through the runs the user
 * may read). Runs link to their pages.
 */
import { api } from '../../api/api-client.js';
import { encodeQuery } from '../../api/query-string.js';
import { Problem } from '../../components/problem.js';
import { useLoad } from '../../components/use-load.js';
import { navigate } from '../../router/router.js';
import { type LineageNode, lineageNames, nodeKey } from './lineage-names.js';

type NodeRef = LineageNode;
interface Graph {
  nodes: NodeRef[];
  edges: { from: NodeRef; to: NodeRef }[];
}

const keyOf = nodeKey;
const BOX = { width: 170, height: 40, columnGap: 70, rowGap: 16 };

/** Columns by signed distance from the centre: upstream negative, downstream positive. */
function layout(center: NodeRef, up: Graph, down: Graph) {
  const column = new Map<string, number>([[keyOf(center), 0]]);
  const nodes = new Map<string, NodeRef>([[keyOf(center), center]]);
  const walk = (graph: Graph, sign: -1 | 1) => {
    for (const node of graph.nodes) nodes.set(keyOf(node), node);
    let frontier = [keyOf(center)];
    const seen = new Set(frontier);
    for (let distance = 1; frontier.length > 0; distance++) {
      const next: string[] = [];
      for (const edge of graph.edges) {
        const [near, far] = sign === -1 ? [keyOf(edge.to), keyOf(edge.from)] : [keyOf(edge.from), keyOf(edge.to)];
        if (frontier.includes(near) && !seen.has(far)) {
          seen.add(far);
          column.set(far, sign * distance);
          next.push(far);
        }
      }
      frontier = next;
    }
  };
  walk(up, -1);
  walk(down, 1);
  const columns = [...new Set(column.values())].sort((a, b) => a - b);
  const rows = new Map<number, number>();
  const placed = new Map<string, { x: number; y: number; node: NodeRef }>();
  for (const [key, at] of column) {
    const row = rows.get(at) ?? 0;
    rows.set(at, row + 1);
    placed.set(key, {
      x: columns.indexOf(at) * (BOX.width + BOX.columnGap),
      y: row * (BOX.height + BOX.rowGap),
      node: nodes.get(key) as NodeRef,
    });
  }
  const edges = [...up.edges, ...down.edges].filter(
    (edge, index, all) =>
      all.findIndex((other) => keyOf(other.from) === keyOf(edge.from) && keyOf(other.to) === keyOf(edge.to)) === index,
  );
  const height = Math.max(...rows.values(), 1) * (BOX.height + BOX.rowGap);
  return { placed, edges, width: columns.length * (BOX.width + BOX.columnGap) - BOX.columnGap, height };
}

export function LineageGraph({ runId, runName }: { runId: string; runName?: string }) {
  const graph = useLoad(
    async (signal) => {
      const ask = (direction: string) =>
        api.request<Graph>(
          'GET',
          `/lineage?${encodeQuery({ kind: 'run', id: runId, direction, depth: 4 })}`,
          undefined,
          signal,
        );
      const [up, down] = await Promise.all([ask('upstream'), ask('downstream')]);
      return { up, down, names: await lineageNames([...up.nodes, ...down.nodes], signal) };
    },
    [runId],
  );
  if (graph.state === 'failed') return <Problem error={graph.error} what="lineage" />;
  if (graph.state === 'loading') return null;
  const { up, down, names } = graph.value;
  if (up.edges.length === 0 && down.edges.length === 0) return <p class="muted">No inputs or outputs recorded.</p>;
  const { placed, edges, width, height } = layout({ kind: 'run', id: runId }, up, down);
  return (
    <svg
      class="lineage"
      width={width + 2}
      height={height}
      viewBox={`-1 0 ${width + 2} ${height}`}
      role="img"
      aria-label="Lineage"
    >
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">
          <path d="M0,0 L10,5 L0,10 z" fill="#8a93a3" />
        </marker>
      </defs>
      {edges.map((edge) => {
        const from = placed.get(keyOf(edge.from));
        const to = placed.get(keyOf(edge.to));
        if (!from || !to) return null;
        const [x1, y1, x2, y2] = [from.x + BOX.width, from.y + BOX.height / 2, to.x, to.y + BOX.height / 2];
        const middle = (x1 + x2) / 2;
        return (
          <path
            key={`${keyOf(edge.from)}>${keyOf(edge.to)}`}
            d={`M${x1},${y1} C${middle},${y1} ${middle},${y2} ${x2},${y2}`}
            fill="none"
            stroke="#8a93a3"
            marker-end="url(#arrow)"
          />
        );
      })}
      {[...placed.values()].map(({ x, y, node }) => {
        const isRun = node.kind === 'run';
        const label = names.get(keyOf(node)) ?? (node.id === runId ? runName : undefined) ?? node.id;
        return (
          <g
            key={keyOf(node)}
            class={`lineage-node kind-${node.kind}${node.id === runId ? ' current' : ''}`}
            transform={`translate(${x},${y})`}
          >
            <title>{`${node.kind} ${node.id}`}</title>
            <rect width={BOX.width} height={BOX.height} rx="6" />
            <text x="8" y="15" class="kind">
              {node.kind}
            </text>
            {isRun && node.id !== runId ? (
              <a
                href={`/runs/${encodeURIComponent(node.id)}`}
                onClick={(event) => {
                  event.preventDefault();
                  navigate(`/runs/${encodeURIComponent(node.id)}`);
                }}
              >
                <text x="8" y="31">
                  {label.length > 24 ? `${label.slice(0, 23)}…` : label}
                </text>
              </a>
            ) : (
              <text x="8" y="31">
                {label.length > 24 ? `${label.slice(0, 23)}…` : label}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}
