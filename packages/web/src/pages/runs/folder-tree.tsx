/**
 * The folders the user may read (`/folders`), drawn as a tree from their paths
 * (`/<owner>/a/b`). Choosing one shows its runs and those of the folders below it.
 */
import { api } from '../../api/api-client.js';
import { Problem } from '../../components/problem.js';
import { useLoad } from '../../components/use-load.js';

interface Folder {
  _id: string;
  path: string;
}

interface Node {
  path: string;
  name: string;
  children: Node[];
}

function treeOf(paths: readonly string[]): Node[] {
  const roots: Node[] = [];
  const byPath = new Map<string, Node>();
  for (const path of [...paths].sort()) {
    const segments = path.split('/').filter(Boolean);
    let siblings = roots;
    let current = '';
    for (const segment of segments) {
      current += `/${segment}`;
      let node = byPath.get(current);
      if (!node) {
        node = { path: current, name: segment, children: [] };
        byPath.set(current, node);
        siblings.push(node);
      }
      siblings = node.children;
    }
  }
  return roots;
}

function Branch({
  nodes,
  selected,
  onSelect,
}: {
  nodes: Node[];
  selected: string | null;
  onSelect: (path: string) => void;
}) {
  return (
    <ul>
      {nodes.map((node) => (
        <li key={node.path}>
          <button
            type="button"
            class={node.path === selected ? 'folder selected' : 'folder'}
            aria-current={node.path === selected}
            onClick={() => onSelect(node.path)}
            title={node.path}
          >
            {node.name}
          </button>
          {node.children.length > 0 && <Branch nodes={node.children} selected={selected} onSelect={onSelect} />}
        </li>
      ))}
    </ul>
  );
}

export function FolderTree({
  selected,
  onSelect,
}: {
  selected: string | null;
  onSelect: (path: string | null) => void;
}) {
  const folders = useLoad(
    (signal) => api.find<Folder>('folders', { $limit: 1000, $sort: { path: 1 }, $select: ['path'] }, signal),
    [],
  );
  return (
    <nav class="folders" aria-label="Folders">
      <button type="button" class={selected === null ? 'folder selected' : 'folder'} onClick={() => onSelect(null)}>
        All runs
      </button>
      {folders.state === 'failed' && <Problem error={folders.error} what="folders" />}
      {folders.state === 'ready' && (
        <Branch
          nodes={treeOf(folders.value.data.map((folder) => folder.path))}
          selected={selected}
          onSelect={onSelect}
        />
      )}
    </nav>
  );
}
