/** Marcelle's file routes and services, for Marcelle's released clients (being built). */
import type { FeatureContext } from '../../app/feature.js';

export function installMarcelle(_context: FeatureContext): void {}
