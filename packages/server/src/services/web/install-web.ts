/** The dashboard, served at `/` (being built). */
import type { FeatureContext } from '../../app/feature.js';

export function installWeb(_context: FeatureContext): void {}
