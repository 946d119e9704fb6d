/** Chooses the extra columns of the runs table (or a plot's axes): hparams and metric summaries found in the runs, or any dot path. */
import { useState } from 'preact/hooks';
import { columnLabel } from './runs-view.js';

export function ColumnPicker({
  available,
  chosen,
  onChange,
  label = 'Columns',
}: {
  available: readonly string[];
  chosen: readonly string[];
  onChange: (columns: string[]) => void;
  /** What the chosen paths are to the reader: columns of the table, axes of a plot. */
  label?: string;
}) {
  const [extra, setExtra] = useState('');
  const all = [...new Set([...chosen, ...available])];
  const toggle = (path: string) =>
    onChange(chosen.includes(path) ? chosen.filter((each) => each !== path) : [...chosen, path]);
  return (
    <details class="column-picker">
      <summary>
        {label} ({chosen.length})
      </summary>
      <div class="popover">
        {all.length === 0 && <p class="muted">These runs have no hparams or metrics yet.</p>}
        <ul>
          {all.map((path) => (
            <li key={path}>
              <label title={path}>
                <input type="checkbox" checked={chosen.includes(path)} onChange={() => toggle(path)} />
                {path.startsWith('metrics.') ? '📈 ' : ''}
                {columnLabel(path)}
                <span class="muted"> {path.startsWith('metrics.') ? path.split('.').at(-1) : ''}</span>
              </label>
            </li>
          ))}
        </ul>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            const path = extra.trim();
            if (path && !chosen.includes(path)) onChange([...chosen, path]);
            setExtra('');
          }}
        >
          <input
            placeholder="any field, e.g. platform.python"
            value={extra}
            onInput={(event) => setExtra(event.currentTarget.value)}
          />
        </form>
      </div>
    </details>
  );
}
