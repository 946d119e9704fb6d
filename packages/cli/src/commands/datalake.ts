/** `larder pictures …` and `larder datasets …` (being built). */
import type { Command } from 'commander';

export function registerDatalake(_program: Command): void {}
