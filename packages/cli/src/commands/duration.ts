/** Durations on the command line: `90s`, `30m`, `6h`, `2d`, or a bare number of minutes. */
import { CliError } from '../cli-error.js';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([smhd]?)$/.exec(text.trim());
  if (!match) throw new CliError(`${flag} must be a duration like 90s, 30m, 6h or 2d (got "${text}")`);
  return Math.round(Number(match[1]) * (UNITS[match[2] || 'm'] as number));
}
