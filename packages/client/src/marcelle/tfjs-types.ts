/**
 * The parts of `@tensorflow/tfjs` the Marcelle SDK uses, described by their shape so that
 * the SDK never depends on tfjs: it is loaded with a dynamic import only when a model is
 * loaded (`loadLayersModel`), and callers pass their own models in.
 */

/** A weight's description in `model.json`'s `weightsManifest`. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  [key: string]: unknown;
}

/** What tfjs hands a save handler and expects back from a load handler. */
export interface ModelArtifacts {
  modelTopology?: unknown;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightSpecs?: WeightSpec[];
  weightData?: ArrayBuffer | ArrayBuffer[];
  trainingConfig?: unknown;
  [key: string]: unknown;
}

export interface SaveResult {
  modelArtifactsInfo: { dateSaved: Date; modelTopologyType: 'JSON' };
  responses?: unknown[];
}

export interface IOHandler {
  save?: (artifacts: ModelArtifacts) => Promise<SaveResult>;
  load?: () => Promise<ModelArtifacts>;
}

/** The LayersModel surface used here (`tf.Sequential` and `tf.LayersModel` have it). */
export interface TfjsLayersModel {
  name: string;
  layers: { name: string; batchInputShape?: unknown; outputShape: unknown; countParams(): number }[];
  trainableWeights: { shape: number[] }[];
  nonTrainableWeights: { shape: number[] }[];
  loss?: unknown;
  summary(lineLength?: number, positions?: number[], printFn?: (message?: unknown) => void): void;
  save(handler: IOHandler): Promise<SaveResult>;
}

/** The module functions used at run time. */
export interface TfjsModule {
  loadLayersModel(handler: IOHandler): Promise<TfjsLayersModel>;
}

// A variable, so that TypeScript does not resolve the package: tfjs stays optional.
const TFJS = '@tensorflow/tfjs';

/** `@tensorflow/tfjs`, imported on first use; a clear error when it is not installed. */
export async function importTfjs(): Promise<TfjsModule> {
  try {
    return (await import(TFJS)) as TfjsModule;
  } catch (cause) {
    throw new Error('Loading a tfjs model needs @tensorflow/tfjs: npm install @tensorflow/tfjs', { cause });
  }
}
