/** The registry feature: its services and routes (being built). */
import type { FeatureContext } from '../../app/feature.js';

export function installRegistry(_context: FeatureContext): void {}
