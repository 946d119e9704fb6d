/**
 * Which services hold records you may read (`GET /info`), and a sentence for a name that
 * has never been written to, with the name it most likely meant. Reading or writing such a
 * service still works as on Marcelle's backends (a first write creates it); this only lets
 * scripts and the CLI say so before a typo becomes a new service.
 *
 * @example
 * await assertServiceWritten(store, 'experimnets');
 * // NotFound: no service 'experimnets' yet; did you mean 'experiments'?
 */
import { assertServiceName, LarderError } from '@larder/protocol';
import type { DataStore } from '../datastore/data-store.js';
import { errorFromAnswer } from '../datastore/rest-transport.js';
import { nearestName } from './nearest-name.js';

/** The services holding records you may read, as the server lists them. */
export async function listServices(store: DataStore): Promise<string[]> {
  const response = await store.request('/info', { headers: { accept: 'application/json' } });
  const text = await response.text();
  if (!response.ok) throw errorFromAnswer('GET', response.url, response.status, text);
  const { services } = JSON.parse(text) as { services?: unknown };
  return Array.isArray(services) ? services.filter((each): each is string => typeof each === 'string') : [];
}

/**
 * Undefined when `name` holds records you may read; otherwise the sentence saying it was
 * never written to (`no service 'experimnets' yet; did you mean 'experiments'?`).
 */
export async function unwrittenServiceNotice(store: DataStore, name: string): Promise<string | undefined> {
  assertServiceName(name);
  const services = await listServices(store);
  if (services.includes(name)) return undefined;
  const meant = nearestName(name, services);
  return `no service '${name}' yet${meant ? `; did you mean '${meant}'?` : ' (nothing you may read was ever written to it)'}`;
}

/** Throws a NotFound with that sentence unless `name` holds records you may read. */
export async function assertServiceWritten(store: DataStore, name: string): Promise<void> {
  const notice = await unwrittenServiceNotice(store, name);
  if (notice) throw new LarderError('NotFound', notice);
}
