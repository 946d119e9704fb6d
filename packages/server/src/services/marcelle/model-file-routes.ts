/**
 * Marcelle's model file routes, for each format (`tfjs`, `onnx`):
 * - `POST /<format>-models/upload`: a multipart form whose fields are file names. tfjs keeps
 *   `model.json`, `model.weights.bin` and `*shard*.bin` fields, ONNX any `*.onnx` field.
 *   Answers 200 with `[[originalFilename, storedId], ...]`; the stored id is the file's
 *   SHA-256. Clients then create the document themselves (`POST /<format>-models`).
 * - `GET|HEAD /<format>-models/<documentId>/<filename>`: the file the document lists under
 *   that name, to whoever may read the document (public documents to anyone).
 *
 * @example
 * curl -F model.json=@model.json -F model.weights.bin=@model.weights.bin \
 *      -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3030/tfjs-models/upload
 * → [["model.json","3b1f…"],["model.weights.bin","9ac0…"]]
 */
import { and, eq, isValidRecordId, LarderError } from '@larder/protocol';
import type { Context, Next } from 'koa';
import type { FeatureContext } from '../../app/feature.js';
import { readMultipartForm } from '../../http/multipart-form.js';
import { decodePathSegment } from '../../http/path-segment.js';
import { sendBlob } from '../../http/send-blob.js';
import { type MarcelleModelFormat, modelsPath } from './marcelle-models-service.js';
import { storedModelFiles } from './model-files-field.js';
import { downloadCaller, downloadReadFilter } from './route-caller.js';

/** Which form fields each format's upload keeps, as the reference backend filters them. */
export function acceptsModelField(format: MarcelleModelFormat, field: string): boolean {
  if (format === 'onnx') return field.endsWith('.onnx');
  return field === 'model.json' || field === 'model.weights.bin' || (field.includes('shard') && field.endsWith('.bin'));
}

export function modelFileRoutes(context: FeatureContext, format: MarcelleModelFormat) {
  const path = modelsPath(format);
  const upload = new RegExp(`^/${path}/upload/?$`);
  const download = new RegExp(`^/${path}/([^/]+)/([^/]+)$`);

  async function receive(ctx: Context): Promise<void> {
    const actor = await context.actorFor(ctx);
    const { files: parts } = await readMultipartForm(ctx, {
      store: context.store,
      blobs: context.blobs,
      actor,
      maxBlobBytes: context.maxBlobBytes,
      noun: 'files',
      accepts: (field) => acceptsModelField(format, field),
    });
    ctx.status = 200;
    ctx.body = parts.map((part) => [part.filename, part.sha256]);
  }

  async function send(ctx: Context, id: string, filename: string): Promise<void> {
    const actor = await downloadCaller(ctx, context);
    const notFound = new LarderError('NotFound', `No ${format} model '${id.slice(0, 80)}' that you may read`);
    if (!isValidRecordId(id)) throw notFound;
    const [record] = await context.store.find(path, {
      filter: and(eq(['_id'], id), downloadReadFilter(actor)),
      limit: 1,
    });
    if (!record) throw notFound;
    const pair = storedModelFiles(record).find(([name]) => name === filename);
    if (!pair) throw new LarderError('NotFound', `Model '${id}' has no file "${filename.slice(0, 120)}"`);
    const info = await context.blobs.stat(pair[1]);
    if (!info) throw new LarderError('NotFound', 'The file is listed but its bytes are gone; upload the model again');
    await sendBlob(ctx, context.blobs, info, {
      bodyWanted: ctx.method === 'GET',
      contentType: filename.endsWith('.json') ? 'application/json' : 'application/octet-stream',
    });
  }

  return async (ctx: Context, next: Next): Promise<void> => {
    if (upload.test(ctx.path)) {
      if (ctx.method !== 'POST') {
        ctx.set('Allow', 'POST');
        throw new LarderError('MethodNotAllowed', `${ctx.method} is not supported on ${ctx.path}`);
      }
      return receive(ctx);
    }
    const match = download.exec(ctx.path);
    if (!match || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    return send(ctx, decodePathSegment(match[1] as string), decodePathSegment(match[2] as string));
  };
}
