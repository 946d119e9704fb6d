/** `larder model …` (being built). */
import type { Command } from 'commander';

export function registerModel(_program: Command): void {}
