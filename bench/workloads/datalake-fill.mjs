/**
 * Datalake contents built outside the timed spans:
 * - small data-file assets (unique text files, sent 1000 per `POST /assets/upload` form) whose
 *   tags follow a known pattern, so a tag query's answer can be checked;
 * - a version's labels and rectangle annotations, spread evenly over its pictures, created
 *   10,000 per `POST /annotations` call.
 */

import { pathToFileURL } from 'node:url';

// The SDK's own form encoder (the one `pictures.upload` sends with): one buffer per form.
const { multipartBody } = await import(
  pathToFileURL(new URL('../../packages/client/dist/datalake/multipart-body.js', import.meta.url).pathname).href
);

const FORM_FILES = 1000;
const FORMS_AT_ONCE = 4;
const ANNOTATION_BATCH = 10_000;
export const GROUPS = 10;
export const KINDS = 7;

/**
 * Groups for `count` fillers: 10 up to 100,000, then one per 10,000, so that a group and a
 * kind together match ~1,400 assets at any size while each kind is held by 1 in 7.
 */
export const groupsFor = (count) => Math.max(GROUPS, Math.round(count / 10_000));

/** The tags of filler asset `index`: one of `groups` groups and one of KINDS kinds. */
export const fillerTags = (index, groups = GROUPS) => [`group-${index % groups}`, `kind-${index % KINDS}`];

/** How many of `count` filler assets carry both `group-<group>` and `kind-<kind>`. */
export function expectedMatches(count, group, kind, groups = GROUPS) {
  let matches = 0;
  for (let index = 0; index < count; index += 1) if (index % groups === group && index % KINDS === kind) matches += 1;
  return matches;
}

async function sendForm(url, indexes, tags) {
  const parts = [
    { name: 'tags', value: tags.join(',') },
    { name: 'source', value: 'bench' },
  ];
  for (const index of indexes) {
    parts.push({ name: 'file', filename: `asset-${index}.txt`, value: `filler asset ${index} ${Math.random()}\n` });
  }
  const { body, contentType } = multipartBody(parts);
  const response = await fetch(`${url}/assets/upload`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  });
  if (response.status !== 201)
    throw new Error(`POST /assets/upload answered ${response.status}: ${await response.text()}`);
  const { data } = await response.json();
  if (data.length !== indexes.length) throw new Error(`POST /assets/upload made ${data.length} of ${indexes.length}`);
}

/** Uploads `count` filler assets, grouped by tags into forms of at most 1000 files, a few forms at once. */
export async function addFillerAssets(url, count, groups = GROUPS) {
  const byTags = new Map();
  for (let index = 0; index < count; index += 1) {
    const key = fillerTags(index, groups).join(',');
    const indexes = byTags.get(key);
    if (indexes) indexes.push(index);
    else byTags.set(key, [index]);
  }
  const forms = [];
  for (const indexes of byTags.values()) {
    for (let start = 0; start < indexes.length; start += FORM_FILES)
      forms.push(indexes.slice(start, start + FORM_FILES));
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: FORMS_AT_ONCE }, async () => {
      while (next < forms.length) {
        const part = forms[next++];
        await sendForm(url, part, fillerTags(part[0], groups));
      }
    }),
  );
}

/**
 * Gives version `versionId` four rectangle labels and `count` annotations over `pictureIds`
 * (round-robin), through the SDK's `annotations` service.
 */
export async function annotateVersion(store, versionId, pictureIds, count) {
  const labels = [];
  for (const name of ['car', 'person', 'bicycle', 'dog']) {
    labels.push(await store.service('dataset-labels').create({ versionId, name, type: 'rectangle' }));
  }
  for (let start = 0; start < count; start += ANNOTATION_BATCH) {
    const batch = [];
    for (let index = start; index < Math.min(count, start + ANNOTATION_BATCH); index += 1) {
      batch.push({
        versionId,
        assetId: pictureIds[index % pictureIds.length],
        labelId: labels[index % labels.length]._id,
        shape: {
          type: 'rectangle',
          x: index % 50,
          y: (index * 7) % 50,
          width: 20 + (index % 20),
          height: 10 + (index % 30),
        },
        status: index % 3 === 0 ? 'pending' : 'accepted',
      });
    }
    await store.service('annotations').create(batch);
  }
  return labels.length;
}
