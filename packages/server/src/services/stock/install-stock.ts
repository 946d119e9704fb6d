/** The stock feature: its services and routes (being built). */
import type { FeatureContext } from '../../app/feature.js';

export function installStock(_context: FeatureContext): void {}
