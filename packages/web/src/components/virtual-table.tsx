/**
 * A table that renders only the rows in view (plus a few either side), so ten thousand rows
 * scroll as smoothly as ten. Rows have one fixed height; rows not loaded yet show as
 * placeholders and `onRange` says which ones are wanted.
 */
// biome-ignore-all lint/a11y/useSemanticElements: rows are positioned one by one as they scroll into view, which table elements cannot do; the ARIA roles keep it a table for assistive technology
// biome-ignore-all lint/a11y/useFocusableInteractive: rows and headers are not interactive themselves; their links, checkboxes and sort buttons are
import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface TableColumn<T> {
  key: string;
  label: string;
  width: number;
  /** Right-aligned numbers. */
  numeric?: boolean;
  render: (row: T) => ComponentChildren;
  sortable?: boolean;
}

export interface VirtualTableProps<T> {
  columns: readonly TableColumn<T>[];
  rowCount: number;
  row: (index: number) => T | undefined;
  rowKey: (row: T, index: number) => string;
  onRange?: (first: number, last: number) => void;
  sort?: { key: string; direction: 1 | -1 } | undefined;
  onSort?: (key: string) => void;
  rowHeight?: number;
  /** Changes whenever rows change, to re-render what is in view. */
  version?: number;
  label: string;
}

const OVERSCAN = 8;

export function VirtualTable<T>(props: VirtualTableProps<T>) {
  const { columns, rowCount, rowHeight = 30 } = props;
  const body = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 600 });

  useLayoutEffect(() => {
    const element = body.current;
    if (!element) return;
    const measure = () => setView({ top: element.scrollTop, height: element.clientHeight });
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    let frame = 0;
    const onScroll = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(measure);
    };
    element.addEventListener('scroll', onScroll, { passive: true });
    return () => {
      observer.disconnect();
      element.removeEventListener('scroll', onScroll);
      cancelAnimationFrame(frame);
    };
  }, []);

  const first = Math.max(0, Math.floor(view.top / rowHeight) - OVERSCAN);
  const last = Math.min(rowCount - 1, Math.ceil((view.top + view.height) / rowHeight) + OVERSCAN);
  const { onRange } = props;
  useEffect(() => {
    if (rowCount > 0) onRange?.(first, last);
  }, [first, last, rowCount, onRange]);

  const template = columns.map((column) => `${column.width}px`).join(' ');
  const width = columns.reduce((sum, column) => sum + column.width, 0);
  const rows = [];
  for (let index = first; index <= last; index++) {
    const row = props.row(index);
    rows.push(
      <div
        key={row ? props.rowKey(row, index) : `pending-${index}`}
        class={row ? 'vt-row' : 'vt-row pending'}
        role="row"
        aria-rowindex={index + 2}
        style={{
          transform: `translateY(${index * rowHeight}px)`,
          gridTemplateColumns: template,
          height: `${rowHeight}px`,
        }}
      >
        {columns.map((column) => (
          <div key={column.key} role="cell" class={column.numeric ? 'vt-cell numeric' : 'vt-cell'}>
            {row ? column.render(row) : ''}
          </div>
        ))}
      </div>,
    );
  }

  return (
    <div class="vt" role="table" aria-label={props.label} aria-rowcount={rowCount + 1}>
      <div class="vt-scroll" ref={body}>
        <div class="vt-head" role="row" style={{ gridTemplateColumns: template, width: `${width}px` }}>
          {columns.map((column) => {
            const sorted = props.sort?.key === column.key ? props.sort.direction : 0;
            return (
              <div key={column.key} role="columnheader" class={column.numeric ? 'vt-cell numeric' : 'vt-cell'}>
                {column.sortable && props.onSort ? (
                  <button
                    type="button"
                    class="vt-sort"
                    aria-label={`Sort by ${column.label}`}
                    title={`Sort by ${column.label}`}
                    onClick={() => props.onSort?.(column.key)}
                  >
                    {column.label}
                    {sorted === 1 ? ' ▲' : sorted === -1 ? ' ▼' : ''}
                  </button>
                ) : (
                  column.label
                )}
              </div>
            );
          })}
        </div>
        <div class="vt-body" role="rowgroup" style={{ height: `${rowCount * rowHeight}px`, width: `${width}px` }}>
          {rows}
        </div>
      </div>
    </div>
  );
}
