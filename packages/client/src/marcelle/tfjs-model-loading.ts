/**
 * Loading tfjs models saved the Marcelle way: from a server's `/tfjs-models` (by document id
 * or by name, latest first, as Marcelle's browser client does) or from a local folder.
 * `@tensorflow/tfjs` is imported only here, on first use.
 */
import { LarderError } from '@larder/protocol';
import type { Remote, Stored } from './marcelle-remote.js';
import { artifactsFrom, folderLoadHandler, MODEL_JSON } from './tfjs-model-files.js';
import { importTfjs, type TfjsLayersModel } from './tfjs-types.js';

const RECORD_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,254}$/;

/** The model document with this id, else the latest one with this name. */
export async function findTfjsDocument(remote: Remote, idOrName: string): Promise<Stored> {
  if (RECORD_ID.test(idOrName)) {
    try {
      return (await remote.call('GET', `/tfjs-models/${encodeURIComponent(idOrName)}`)) as Stored;
    } catch (error) {
      if (!(error instanceof LarderError && (error.name === 'NotFound' || error.name === 'BadRequest'))) throw error;
    }
  }
  const query = `name=${encodeURIComponent(idOrName)}&$sort[updatedAt]=-1&$limit=1`;
  const found = (await remote.call('GET', `/tfjs-models?${query}`)) as { data: Stored[] };
  const document = found.data[0];
  if (!document) throw new LarderError('NotFound', `No tfjs model "${idOrName}" on ${remote.backendRoot}`);
  return document;
}

/**
 * A LayersModel from the server, files fetched through the document's download route.
 *
 * @example
 * const model = await loadRemoteTfjsModel(remote, 'mlp-1@final');
 */
export async function loadRemoteTfjsModel(remote: Remote, idOrName: string): Promise<TfjsLayersModel> {
  const document = await findTfjsDocument(remote, idOrName);
  const base = `/tfjs-models/${encodeURIComponent(document._id)}`;
  const file = (name: string) => remote.download(`${base}/${name.split('/').map(encodeURIComponent).join('/')}`);
  const manifest = JSON.parse(new TextDecoder().decode(await file(MODEL_JSON)));
  const artifacts = await artifactsFrom(manifest, file);
  const tf = await importTfjs();
  return tf.loadLayersModel({ load: async () => artifacts });
}

/** A LayersModel from a folder holding `model.json` and its weights. */
export async function loadTfjsModelFromFolder(folder: string): Promise<TfjsLayersModel> {
  const tf = await importTfjs();
  return tf.loadLayersModel(folderLoadHandler(folder));
}
