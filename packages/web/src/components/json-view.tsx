/** Any JSON value as an indented definition list: nested objects fold open. */
export function JsonView({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span class="muted">—</span>;
  if (typeof value !== 'object') return <span class="json-scalar">{String(value)}</span>;
  const entries = Array.isArray(value)
    ? value.map((item, index) => [String(index), item] as const)
    : Object.entries(value);
  if (entries.length === 0) return <span class="muted">{Array.isArray(value) ? '[]' : '{}'}</span>;
  return (
    <dl class="json">
      {entries.map(([key, inner]) => (
        <div key={key} class="json-entry">
          <dt>{key}</dt>
          <dd>
            <JsonView value={inner} />
          </dd>
        </div>
      ))}
    </dl>
  );
}
