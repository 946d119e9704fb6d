/**
 * Any generic service's documents (`/info` lists them), browsed with the query language:
 * the query box takes the same text as the runs filter, or a raw query string; the documents
 * are a table whose columns are their fields.
 */
import { useState } from 'preact/hooks';
import { api, type Page } from '../../api/api-client.js';
import { filterQuery } from '../../api/filter-text.js';
import { Loading, Problem } from '../../components/problem.js';
import { useLoad } from '../../components/use-load.js';
import { Link } from '../../router/router.js';
import { DocumentTable } from './document-table.js';

const PAGE = 50;

function Documents({ name }: { name: string }) {
  const [text, setText] = useState('');
  const [applied, setApplied] = useState('');
  const [skip, setSkip] = useState(0);
  const filter = filterQuery(applied);
  const page = useLoad(
    async (signal) => {
      if (!filter.ok) throw new Error(filter.message);
      const query = [filter.query, `$limit=${PAGE}`, `$skip=${skip}`].filter(Boolean).join('&');
      return api.request<Page<Record<string, unknown>>>(
        'GET',
        `/${encodeURIComponent(name)}?${query}`,
        undefined,
        signal,
      );
    },
    [name, applied, skip],
  );
  return (
    <section class="service-documents">
      <form
        class="toolbar"
        onSubmit={(event) => {
          event.preventDefault();
          setSkip(0);
          setApplied(text);
        }}
      >
        <input
          aria-label="Query"
          placeholder="score > 0.5 and hp.lr <= 0.1   (or score[$gt]=0.5&$sort[score]=-1)"
          value={text}
          onInput={(event) => setText(event.currentTarget.value)}
        />
        <button type="submit">Query</button>
      </form>
      {page.state === 'failed' && <Problem error={page.error} what={`documents of ${name}`} />}
      {page.state === 'loading' && <Loading what="documents" />}
      {page.state === 'ready' && (
        <>
          <p class="muted">
            {page.value.total} documents · showing {page.value.total === 0 ? 0 : skip + 1}–
            {skip + page.value.data.length}{' '}
            <button type="button" disabled={skip === 0} onClick={() => setSkip(Math.max(0, skip - PAGE))}>
              Previous
            </button>{' '}
            <button type="button" disabled={skip + PAGE >= page.value.total} onClick={() => setSkip(skip + PAGE)}>
              Next
            </button>
          </p>
          {page.value.data.length > 0 && <DocumentTable documents={page.value.data} />}
        </>
      )}
    </section>
  );
}

export function ServicesPage({ name }: { name?: string }) {
  const services = useLoad((signal) => api.request<{ services: string[] }>('GET', '/info', undefined, signal), []);
  return (
    <div class="services-page">
      <nav class="folders" aria-label="Services">
        {services.state === 'loading' && <Loading what="services" />}
        {services.state === 'failed' && <Problem error={services.error} what="services" />}
        {services.state === 'ready' && (
          <ul>
            {services.value.services.map((service) => (
              <li key={service}>
                <Link
                  href={`/services/${encodeURIComponent(service)}`}
                  class={service === name ? 'folder selected' : 'folder'}
                >
                  {service}
                </Link>
              </li>
            ))}
          </ul>
        )}
      </nav>
      {name ? <Documents name={name} /> : <p class="muted">Choose a service.</p>}
    </div>
  );
}
