/**
 * How the CLI names a run or an artifact: its id, its name (or alternative name) when only
 * one you may see has it, or its path: `/<owner>/<folder…>/<name>`, or `<folder…>/<name>`
 * from your home (`/local` on a server without auth).
 */
import { isValidRecordId, LarderError } from '@larder/protocol';
import { CliError } from '../cli-error.js';
import type { Connection } from './connection.js';

export type RecordLike = Record<string, unknown> & { _id: string };

/**
 * The record `reference` names, or undefined when none you may see; several of one name is a CliError listing them.
 *
 * @example
 * await findRecord(connection, 'runs', 'cnn');             // by name
 * await findRecord(connection, 'runs', 'cv/mnist/cnn');    // by path from your home
 */
export async function findRecord(
  connection: Connection,
  service: string,
  reference: string,
): Promise<RecordLike | undefined> {
  const records = connection.store.service<RecordLike>(service);
  const trimmed = reference.replace(/\/+$/, '');
  const cut = trimmed.lastIndexOf('/');
  if (cut < 0) {
    if (isValidRecordId(trimmed)) {
      const byId = await records.get(trimmed).catch((error: unknown) => {
        if (error instanceof LarderError && error.code === 404) return undefined;
        throw error;
      });
      if (byId) return byId as RecordLike;
    }
    const page = (await records.find({
      query: { $or: [{ name: trimmed }, { altName: trimmed }], $limit: 10, $sort: { createdAt: -1 } },
    })) as { data: RecordLike[]; total: number };
    if (page.total > 1) {
      const listed = page.data.map((each) => `${String(each.folder)}/${String(each.name)} (${each._id})`).join(', ');
      throw new CliError(`${page.total} of what you may see are named ${trimmed}: name one by path or id: ${listed}`);
    }
    return page.data[0];
  }
  const name = trimmed.slice(cut + 1);
  let folder = trimmed.slice(0, cut);
  if (!folder.startsWith('/')) folder = `${await homeFolder(connection)}/${folder}`;
  const page = (await records.find({ query: { folder, $or: [{ name }, { altName: name }], $limit: 1 } })) as {
    data: RecordLike[];
  };
  return page.data[0];
}

/** The record `reference` names; a CliError saying so when there is none. */
export async function requireRecord(
  connection: Connection,
  service: string,
  reference: string,
  noun: string,
): Promise<RecordLike> {
  const record = await findRecord(connection, service, reference);
  if (!record) throw new CliError(`No ${noun} ${reference} that you may see (give an id, a name, or a folder path)`);
  return record;
}

async function homeFolder(connection: Connection): Promise<string> {
  const me = await connection.getJson<{ auth: boolean; user: { email: string } | null }>('/whoami');
  if (me.user) return `/${me.user.email}`;
  if (!me.auth) return '/local';
  throw new CliError('Sign in (larder login) to name runs by a path from your home, or give the whole path');
}
