/** `larder stock …` (being built). */
import type { Command } from 'commander';

export function registerStock(_program: Command): void {}
