/**
 * A page of any service's documents as a table: the fields they hold become columns (`_id`
 * and `name` first, then the fields most documents share), values shortened to a line; a
 * row opens to the whole document.
 */
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { formatValue } from '../../components/format.js';
import { JsonView } from '../../components/json-view.js';

const MOST_COLUMNS = 10;
const CELL_CHARACTERS = 60;
const FIRST = ['_id', 'name'];
/** Fields every document service writes; shown last, when there is room. */
const BOOKKEEPING = new Set(['userId', 'public', 'createdAt', 'updatedAt']);

/** The columns for these documents, most shared first. */
export function documentColumns(documents: readonly Record<string, unknown>[]): string[] {
  const counts = new Map<string, number>();
  for (const document of documents) {
    for (const key of Object.keys(document)) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const rank = (key: string) => (FIRST.includes(key) ? 0 : BOOKKEEPING.has(key) ? 2 : 1);
  return [...counts.keys()]
    .sort(
      (a, b) =>
        rank(a) - rank(b) ||
        (rank(a) === 0 ? FIRST.indexOf(a) - FIRST.indexOf(b) : 0) ||
        (counts.get(b) ?? 0) - (counts.get(a) ?? 0) ||
        a.localeCompare(b),
    )
    .slice(0, MOST_COLUMNS);
}

function cell(value: unknown): string {
  const text = formatValue(value);
  return text.length > CELL_CHARACTERS ? `${text.slice(0, CELL_CHARACTERS - 1)}…` : text;
}

export function DocumentTable({ documents }: { documents: readonly Record<string, unknown>[] }) {
  const [open, setOpen] = useState<string | null>(null);
  const columns = documentColumns(documents);
  return (
    <div class="table-scroll">
      <table class="data documents-table">
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column} scope="col">
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {documents.map((document) => {
            const id = String(document._id);
            return (
              <Fragment key={id}>
                <tr
                  class={open === id ? 'document-row open' : 'document-row'}
                  onClick={() => setOpen(open === id ? null : id)}
                  aria-expanded={open === id}
                >
                  {columns.map((column) => (
                    <td key={column} title={formatValue(document[column])}>
                      {cell(document[column])}
                    </td>
                  ))}
                </tr>
                {open === id && (
                  <tr class="document-detail">
                    <td colSpan={columns.length}>
                      <JsonView value={document} />
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
