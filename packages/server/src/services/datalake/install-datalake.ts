/** The datalake feature: its services and routes (being built). */
import type { FeatureContext } from '../../app/feature.js';

export function installDatalake(_context: FeatureContext): void {}
