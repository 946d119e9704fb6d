/** The tracking feature: its services and routes (being built). */
import type { FeatureContext } from '../../app/feature.js';

export function installTracking(_context: FeatureContext): void {}
