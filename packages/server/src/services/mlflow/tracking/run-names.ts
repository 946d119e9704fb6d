/**
 * Names for runs created without one (`bold-otter-42`), as MLflow's server gives them, so
 * every run has a readable name in Larder's folder.
 */
import { randomInt } from 'node:crypto';

const ADJECTIVES = [
  'amber',
  'bold',
  'brisk',
  'calm',
  'clever',
  'crisp',
  'deft',
  'eager',
  'fleet',
  'gentle',
  'glad',
  'keen',
  'lucid',
  'merry',
  'nimble',
  'placid',
  'quick',
  'quiet',
  'rapid',
  'serene',
  'sunny',
  'tidy',
  'vivid',
  'witty',
];
const NOUNS = [
  'badger',
  'comet',
  'crane',
  'delta',
  'ember',
  'falcon',
  'fjord',
  'gecko',
  'harbor',
  'heron',
  'iris',
  'lynx',
  'maple',
  'meadow',
  'otter',
  'pebble',
  'quartz',
  'raven',
  'river',
  'sparrow',
  'tundra',
  'willow',
  'yak',
  'zephyr',
];

export function randomRunName(): string {
  const pick = (words: readonly string[]) => words[randomInt(words.length)] as string;
  return `${pick(ADJECTIVES)}-${pick(NOUNS)}-${randomInt(1000)}`;
}
