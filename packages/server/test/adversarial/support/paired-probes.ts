/**
 * Paired probes: the same request aimed once at A's real private object and once at a
 * made-up one of the same shape. Whoever may not read the object (B, an anonymous caller)
 * must get the same answer to both, status and body shape, with the target itself masked;
 * anything else tells them the object exists, or gives it away. Every answer is also
 * checked for 5xx and for A's canary.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { Figures } from './figures.js';

export interface Answer {
  status: number;
  body: unknown;
}

export interface Who {
  name: string;
  token: string | undefined;
}

export type ProbeCall = (target: string, who: Who) => Promise<Answer>;

export interface Probe {
  /** What is tried, for the report: `GET /runs/:run`. */
  label: string;
  /** Which of A's objects it aims at (a key of the world's ids). */
  target: string;
  call: ProbeCall;
}

const DIGITS = '0123456789';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();

function pick(alphabet: string): string {
  return alphabet[randomInt(alphabet.length)] as string;
}

/** A value shaped like `real` (same length, same classes of characters, punctuation kept) that names nothing. */
export function madeUpLike(real: string): string {
  const like = (char: string) =>
    /[0-9]/.test(char) ? pick(DIGITS) : /[a-z]/.test(char) ? pick(LOWER) : /[A-Z]/.test(char) ? pick(UPPER) : char;
  for (;;) {
    // Hashes stay hashes: 64 hex digits become 64 other hex digits.
    const out = real
      .split(/([0-9a-f]{64})/)
      .map((part, index) => (index % 2 === 1 ? randomBytes(32).toString('hex') : [...part].map(like).join('')))
      .join('');
    if (out !== real) return out;
  }
}

/** The target and the pieces of it that answers quote: its `:`/`/`-separated parts, and their 12-character prefixes (abbreviated hashes). */
function piecesOf(target: string): string[] {
  const parts = target.split(/[:/]/).filter((part) => part.length >= 8);
  const pieces = [target, ...parts, ...parts.map((part) => part.slice(0, 12))];
  return [...new Set(pieces)].sort((x, y) => y.length - x.length);
}

function masked(text: string, target: string): string {
  let out = text;
  for (const piece of piecesOf(target)) out = out.split(piece).join('<target>');
  return out.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>');
}

/** The shape of a JSON value: types, keys and array lengths, with `target` masked in every string. */
export function shapeOf(value: unknown, target: string): unknown {
  if (typeof value === 'string') return masked(value, target);
  if (Array.isArray(value)) return value.map((item) => shapeOf(item, target));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([x], [y]) => (x < y ? -1 : 1))
        .map(([key, item]) => [
          key,
          key === '_id' || key === 'createdAt' || key === 'updatedAt' ? typeof item : shapeOf(item, target),
        ]),
    );
  }
  return value;
}

function brief(answer: Answer): string {
  return `${answer.status} ${JSON.stringify(answer.body)?.slice(0, 160)}`;
}

/**
 * Runs each probe as each caller against the real and a made-up target and records what
 * differs (a leak), what answers 5xx, and where A's canary shows.
 */
export async function runPairedProbes(
  probes: readonly Probe[],
  callers: readonly Who[],
  targets: Record<string, string>,
  fakes: Record<string, string>,
  canary: string,
  figures: Figures,
): Promise<void> {
  for (const probe of probes) {
    const real = targets[probe.target];
    if (real === undefined || real === '') throw new Error(`no target ${probe.target} for ${probe.label}`);
    const fake = fakes[probe.target] ?? madeUpLike(real);
    for (const who of callers) {
      const atReal = await probe.call(real, who);
      const atFake = await probe.call(fake, who);
      figures.attempts += 2;
      const where = `${who.name}: ${probe.label} (${probe.target}=${real})`;
      for (const answer of [atReal, atFake]) {
        if (answer.status >= 500 || answer.status === 0) figures.add('5xx', `${where} → ${brief(answer)}`);
      }
      const realShape = JSON.stringify({ status: atReal.status, body: shapeOf(atReal.body, real) });
      const fakeShape = JSON.stringify({ status: atFake.status, body: shapeOf(atFake.body, fake) });
      const showsCanary = masked(JSON.stringify(atReal.body ?? ''), real).includes(canary);
      if (realShape !== fakeShape || showsCanary) {
        figures.add('leak', `${where} → real ${brief(atReal)} | made-up ${brief(atFake)}`);
      }
    }
  }
}
