/**
 * The read queries, each with the answer the dataset implies, so a server that answers
 * fast but wrong is caught. Parameters vary per query and come from a seed, so every
 * server is asked the same questions.
 */
import { documentName, GROUPS, seededRandom } from './document-dataset.mjs';

const LIMIT = 10;

/** @typedef {{ path: string, check: (answer: any) => boolean }} QueryPlan */

function byGroupScoreDescending(documents) {
  const groups = new Map();
  for (const document of documents) {
    if (!groups.has(document.group)) groups.set(document.group, []);
    groups.get(document.group).push(document);
  }
  for (const list of groups.values()) list.sort((a, b) => b.score - a.score);
  return groups;
}

function pageMatches(answer, matching) {
  const top = matching.slice(0, LIMIT);
  return (
    answer.total === matching.length &&
    Array.isArray(answer.data) &&
    answer.data.length === top.length &&
    answer.data.every((record, i) => record.name === top[i]?.name)
  );
}

/**
 * Query builders by workload name. Each takes the documents, a seeded random source and
 * the created ids, and answers one QueryPlan.
 */
export function queryKinds(documents, service) {
  const groups = byGroupScoreDescending(documents);
  const pickGroup = (random) => `g${Math.floor(random() * GROUPS)}`;
  return {
    /** The example: a group, a numeric threshold, sorted by score. */
    findScoreThreshold: (random) => {
      const group = pickGroup(random);
      const threshold = random();
      const matching = (groups.get(group) ?? []).filter((d) => d.score > threshold);
      return {
        path: `/${service}?group=${group}&score[$gt]=${threshold}&$sort[score]=-1&$limit=${LIMIT}`,
        check: (answer) => pageMatches(answer, matching),
      };
    },
    /** Same shape with a string threshold, which a query string carries without type loss. */
    findNameThreshold: (random) => {
      const group = pickGroup(random);
      const threshold = documentName(Math.floor(random() * documents.length));
      const matching = (groups.get(group) ?? []).filter((d) => d.name > threshold);
      return {
        path: `/${service}?group=${group}&name[$gt]=${threshold}&$sort[score]=-1&$limit=${LIMIT}`,
        check: (answer) => pageMatches(answer, matching),
      };
    },
    /** `$limit=0`: only the total of a filtered query. */
    count: (random) => {
      const group = pickGroup(random);
      const expected = groups.get(group)?.length ?? 0;
      return {
        path: `/${service}?group=${group}&$limit=0`,
        check: (answer) => answer.total === expected && answer.data.length === 0,
      };
    },
    /** One record by the id its create answered. */
    getById: (random, ids) => {
      const index = Math.floor(random() * documents.length);
      return {
        path: `/${service}/${ids[index]}`,
        check: (answer) => answer.name === documentName(index) && answer._id === ids[index],
      };
    },
  };
}

/** @returns {QueryPlan[]} */
export function planQueries(build, count, seed, ids) {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => build(random, ids));
}
