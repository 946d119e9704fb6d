/**
 * Larder against the peer, workload by workload: ratio = larder/peer for throughput and
 * peer/larder for latency, so above 1 always means Larder is ahead. A workload the peer
 * answered wrongly is shown but not compared.
 */
import { round } from '../measure/percentiles.mjs';

const THROUGHPUT = ['batchedCreate', 'singleCreate', 'singleCreateConcurrent'];
const LATENCY = ['findScoreThreshold', 'findNameThreshold', 'count', 'getById'];

function wrongAnswers(figures) {
  return figures.correct !== undefined && figures.correct < figures.count;
}

/** @returns {Record<string, object>} */
export function compareDocuments(larder, peer) {
  const ratios = {};
  for (const name of THROUGHPUT) {
    ratios[name] = { docsPerSec: round(larder[name].docsPerSec / peer[name].docsPerSec) };
  }
  for (const name of LATENCY) {
    const ours = larder[name];
    const theirs = peer[name];
    if (wrongAnswers(ours) || wrongAnswers(theirs)) {
      ratios[name] = {
        comparable: false,
        reason: `correct answers: Larder ${ours.correct}/${ours.count}, peer ${theirs.correct}/${theirs.count}`,
      };
      continue;
    }
    ratios[name] = { p50: round(theirs.p50 / ours.p50), p95: round(theirs.p95 / ours.p95) };
  }
  return ratios;
}

/** True when every comparable ratio is above 1. */
export function aheadEverywhere(ratios) {
  return Object.values(ratios).every(
    (ratio) =>
      ratio.comparable === false || Object.values(ratio).every((value) => typeof value !== 'number' || value > 1),
  );
}
