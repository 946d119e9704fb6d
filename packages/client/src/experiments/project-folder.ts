/**
 * A Picsellia project is a Larder folder. A relative project (`"mnist"`) lives in the
 * caller's home and is made on first use, which also tells us its absolute path (the one
 * runs record); an absolute one (`"/vision-lab/mnist"`) must exist and be visible.
 */
import { LarderError } from '@larder/protocol';
import type { DataStore } from '../datastore/data-store.js';

interface FolderRecord {
  _id: string;
  path: string;
}

export async function resolveProjectFolder(store: DataStore, project: string): Promise<string> {
  if (typeof project !== 'string' || project.trim() === '') {
    throw new LarderError('BadRequest', 'Name a project: a folder such as "mnist" or "/vision-lab/mnist"');
  }
  const folders = store.service<FolderRecord>('folders');
  if (!project.startsWith('/')) {
    const made = await folders.create({ path: project, makeParents: true } as Partial<FolderRecord>);
    return made.path;
  }
  const path = `/${project
    .split('/')
    .filter((segment) => segment !== '')
    .join('/')}`;
  const found = await folders.find({ query: { path, $limit: 1 } });
  if (!found.data[0]) throw new LarderError('NotFound', `No project ${path} that you may see`);
  return path;
}
