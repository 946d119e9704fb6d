/**
 * `POST /assets/upload`: many pictures in one request, made assets in bulk.
 * - A multipart form (browsers, curl, the SDK): files stream into the blob store, their first
 *   bytes kept to read picture sizes. Fields `tags` (repeated, or comma-separated), `source`
 *   and `public` apply to every file of the request; they may come before or after the files.
 * - A JSON body `{ files: [{ sha256, filename }], tags, source, public }` for files whose bytes
 *   the caller already uploaded (the SDK sends it first with every hash of a folder, and then
 *   sends as a form only the files this answer says are missing, so a second upload of the
 *   same folder sends no bytes). It answers only about the caller's own uploads (their claims),
 *   so it tells nothing about anyone else's files.
 *
 * Either way the answer is `201 { data: [asset | null per file], failed: [{ index, filename,
 * error: { name, message, code } }] }`: a file that cannot be made an asset (too large, not
 * uploaded by the caller, a bad name) fails alone, and the others are still made. A form of
 * which no file could be made an asset is refused with its first file's error (413 for a
 * file too large); the JSON form always answers 201, since "missing" is an answer there.
 *
 * @example
 * curl -F tags=cat -F tags=outdoor -F file=@a.jpg -F file=@b.png \
 *      -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3030/assets/upload
 * → 201 { "data": [ { "_id": "p…", "filename": "a.jpg", "width": 640, … }, … ], "failed": [] }
 *
 * Marcelle's clients post to the same address with each file under a field named after the
 * file (`-F photo.png=@photo.png`). A form whose first part is a file under any field other
 * than `file` is theirs: it is passed on untouched to Marcelle's route (services/marcelle).
 */
import type { Readable } from 'node:stream';
import { type ErrorName, LarderError } from '@larder/protocol';
import type { Context, Next } from 'koa';
import type { FeatureContext } from '../../app/feature.js';
import type { Actor } from '../../auth/actor.js';
import { confirmUploads } from '../../blobs/lifecycle/blob-uploads.js';
import { MAX_FORM_FILES, readMultipartForm } from '../../http/multipart-form.js';
import { readJsonBody } from '../../http/read-json-body.js';
import type { StoredDocument } from '../../stores/document-store.js';
import type { IngestOutcome } from './asset-ingest.js';
import type { AssetsService } from './assets-service.js';
import { HEAD_BYTES } from './picture-inspection.js';

const PATH = /^\/assets\/upload\/?$/;
/** Enough bytes to hold the first part's headers. */
const PEEK_LIMIT = 64 * 1024;
const FIRST_PART = /content-disposition:[^\r\n]*?\bname="([^"]*)"[^\r\n]*?\bfilename="/i;

/**
 * The field name of the form's first part when that part is a file, read from the first
 * bytes of the body, which are then put back for the parser.
 */
function firstFileField(request: Readable): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const headersEnd = (buffer: Buffer) => buffer.indexOf('\r\n\r\n');
    const done = (buffer: Buffer) => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', reject);
      request.pause();
      request.unshift(buffer);
      const end = headersEnd(buffer);
      resolve(FIRST_PART.exec(buffer.subarray(0, end < 0 ? buffer.length : end).toString('latin1'))?.[1]);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      const buffer = Buffer.concat(chunks);
      if (size >= PEEK_LIMIT || headersEnd(buffer) >= 0) done(buffer);
    };
    const onEnd = () => reject(new LarderError('BadRequest', 'The multipart body is malformed: it holds no part'));
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('error', reject);
  });
}

export function assetUploadRoute(context: FeatureContext) {
  const { store, blobs } = context;
  const assets = () => context.app.service('assets') as unknown as AssetsService;

  function shared(fields: { tags?: unknown; source?: unknown; public?: unknown }) {
    return {
      tags: fields.tags,
      source: fields.source ?? 'upload',
      extra: fields.public === true ? { public: true } : {},
    };
  }

  async function fromForm(ctx: Context, actor: Actor): Promise<UploadAnswer> {
    const field = await firstFileField(ctx.req);
    if (field !== undefined && field !== 'file') return PASSED_ON;
    const form = await readMultipartForm(ctx, {
      store,
      blobs,
      actor,
      maxBlobBytes: context.maxBlobBytes,
      noun: 'pictures',
      perFileFailures: true,
      headBytes: HEAD_BYTES,
      // The ingest holds each file that becomes an asset by its reference, and records the
      // upload of the others: most files of a form then cost no upload row.
      recordUploads: false,
    });
    const parts = form.files.length + form.failed.length;
    if (parts === 0) throw new LarderError('BadRequest', 'The form holds no file');
    const common = shared({
      tags: (form.fields.get('tags') ?? []).flatMap((value) => value.split(',')),
      source: form.fields.get('source')?.[0],
      public: form.fields.get('public')?.[0] === 'true',
    });
    let outcomes: IngestOutcome[];
    try {
      outcomes = await assets().ingest(
        form.files.map((file) => ({
          sha256: file.sha256,
          filename: file.filename,
          head: file.head,
          uploadedSize: file.size,
          uploadUnrecorded: true,
          deletionBefore: form.deletionBefore,
          ...common,
        })),
        paramsOf(actor),
      );
    } catch (error) {
      // Refused whole (401, 403, a store failure): the bytes keep their grace period, as any
      // upload's, so that the client's next try may name them by hash.
      await confirmUploads(
        store,
        blobs,
        form.files.map((file) => file.sha256),
      ).catch(() => undefined);
      throw error;
    }
    const answer: UploadAnswer = { data: new Array(parts).fill(null), failed: [] };
    for (const [at, file] of form.files.entries()) {
      settle(answer, file.index, file.filename, outcomes[at] as IngestOutcome);
    }
    for (const file of form.failed) settle(answer, file.index, file.filename, { error: file.error });
    answer.failed.sort((a, b) => a.index - b.index);
    // A form none of whose files could be made assets is refused as its first file was.
    const first = answer.failed[0];
    if (answer.data.every((asset) => asset === null) && first) {
      throw new LarderError(first.error.name as ErrorName, first.error.message, { data: { failed: answer.failed } });
    }
    return answer;
  }

  async function fromJson(ctx: Context, actor: Actor): Promise<UploadAnswer> {
    const body = await readJsonBody(ctx, MAX_JSON_BYTES);
    if (body === null || typeof body !== 'object' || !Array.isArray((body as { files?: unknown }).files)) {
      throw new LarderError('BadRequest', 'Send { "files": [{ "sha256", "filename" }, …] } or a multipart form');
    }
    const { files, ...fields } = body as { files: unknown[]; tags?: unknown; source?: unknown; public?: unknown };
    if (files.length === 0) throw new LarderError('BadRequest', '"files" is empty');
    if (files.length > MAX_FORM_FILES) {
      throw new LarderError('PayloadTooLarge', `At most ${MAX_FORM_FILES} files per upload; send the rest in another`);
    }
    const common = shared(fields);
    const outcomes = await assets().ingest(
      files.map((file) => {
        const { sha256, filename } = (file ?? {}) as { sha256?: unknown; filename?: unknown };
        return { sha256, filename, ...common };
      }),
      paramsOf(actor),
    );
    const answer: UploadAnswer = { data: new Array(files.length).fill(null), failed: [] };
    outcomes.forEach((outcome, index) => {
      const { filename } = (files[index] ?? {}) as { filename?: unknown };
      settle(answer, index, typeof filename === 'string' ? filename.slice(0, 255) : '', outcome);
    });
    return answer;
  }

  return async (ctx: Context, next: Next): Promise<void> => {
    if (!PATH.test(ctx.path)) return next();
    if (ctx.method !== 'POST') {
      ctx.set('Allow', 'POST');
      throw new LarderError('MethodNotAllowed', `${ctx.method} is not supported on ${ctx.path}`);
    }
    const actor = await context.actorFor(ctx);
    const json = typeof ctx.is('application/json') === 'string';
    if (!json && !ctx.is('multipart/form-data')) {
      throw new LarderError('BadRequest', 'Send the pictures as multipart/form-data (or their hashes as JSON)');
    }
    const answer = json ? await fromJson(ctx, actor) : await fromForm(ctx, actor);
    if (answer === PASSED_ON) return next();
    ctx.status = 201;
    ctx.body = answer;
  };
}

interface FailedFile {
  index: number;
  filename: string;
  error: { name: string; message: string; code: number };
}

interface UploadAnswer {
  data: (StoredDocument | null)[];
  failed: FailedFile[];
}

/** The form was Marcelle's. */
const PASSED_ON: UploadAnswer = { data: [], failed: [] };
/** A thousand file entries with long names fit well within this. */
const MAX_JSON_BYTES = 1024 * 1024;

function paramsOf(actor: Actor) {
  return { provider: 'rest', ...(actor.kind === 'user' ? { user: actor.user } : {}) };
}

function settle(answer: UploadAnswer, index: number, filename: string, outcome: IngestOutcome): void {
  if (outcome.asset) {
    answer.data[index] = outcome.asset;
    return;
  }
  const { error } = outcome as { error: LarderError };
  answer.failed.push({ index, filename, error: { name: error.name, message: error.message, code: error.code } });
}
