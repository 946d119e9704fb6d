/** Multipart forms and calls as Marcelle's clients send them, for the Marcelle tests. */
import type { TestServer } from '../support/test-server.js';

export interface NamedFile {
  /** Marcelle's clients name the field after the file. */
  field: string;
  bytes: Uint8Array | string;
  filename?: string;
}

/** POSTs a form whose fields are file names, as Marcelle's Python client and tfjs do. */
export async function postNamedFiles(server: TestServer, path: string, files: NamedFile[], token?: string) {
  const form = new FormData();
  for (const file of files) {
    const bytes = typeof file.bytes === 'string' ? new TextEncoder().encode(file.bytes) : file.bytes;
    form.append(file.field, new Blob([new Uint8Array(bytes)]), file.filename ?? file.field);
  }
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: form,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** A small tfjs LayersModel manifest, as `model.save(http(...))` uploads it. */
export function tfjsManifest(weightsFile = 'model.weights.bin'): string {
  return JSON.stringify({
    format: 'layers-model',
    generatedBy: 'TensorFlow.js tfjs-layers v4',
    convertedBy: null,
    modelTopology: { class_name: 'Sequential', config: { name: 'tiny', layers: [] } },
    weightsManifest: [
      { paths: [`./${weightsFile}`], weights: [{ name: 'dense/kernel', shape: [2, 1], dtype: 'float32' }] },
    ],
  });
}

export const WEIGHTS = new Uint8Array(new Float32Array([0.5, -1.25]).buffer);
