/** A grid of equal tiles rendering only the rows in view: galleries of many thousands of pictures. */
import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface VirtualGridProps {
  count: number;
  tile: number;
  gap?: number;
  render: (index: number) => ComponentChildren;
  onRange?: (first: number, last: number) => void;
  label: string;
}

export function VirtualGrid({ count, tile, gap = 8, render, onRange, label }: VirtualGridProps) {
  const element = useRef<HTMLElement>(null);
  const [view, setView] = useState({ top: 0, height: 600, width: 800 });
  useLayoutEffect(() => {
    const scroller = element.current;
    if (!scroller) return;
    const measure = () =>
      setView({ top: scroller.scrollTop, height: scroller.clientHeight, width: scroller.clientWidth });
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(scroller);
    scroller.addEventListener('scroll', measure, { passive: true });
    return () => {
      observer.disconnect();
      scroller.removeEventListener('scroll', measure);
    };
  }, []);
  const columns = Math.max(1, Math.floor((view.width + gap) / (tile + gap)));
  const rowHeight = tile + gap;
  const firstRow = Math.max(0, Math.floor(view.top / rowHeight) - 2);
  const lastRow = Math.min(Math.ceil(count / columns) - 1, Math.ceil((view.top + view.height) / rowHeight) + 2);
  const first = firstRow * columns;
  const last = Math.min(count - 1, (lastRow + 1) * columns - 1);
  useEffect(() => {
    if (count > 0) onRange?.(first, last);
  }, [first, last, count, onRange]);
  const tiles = [];
  for (let index = first; index <= last; index++) {
    const row = Math.floor(index / columns);
    const column = index % columns;
    tiles.push(
      <div
        key={index}
        class="grid-tile"
        style={{
          width: `${tile}px`,
          height: `${tile}px`,
          transform: `translate(${column * (tile + gap)}px, ${row * rowHeight}px)`,
        }}
      >
        {render(index)}
      </div>,
    );
  }
  return (
    <section class="vgrid" ref={element} aria-label={label}>
      <div class="vgrid-body" style={{ height: `${Math.ceil(count / columns) * rowHeight}px` }}>
        {tiles}
      </div>
    </section>
  );
}
