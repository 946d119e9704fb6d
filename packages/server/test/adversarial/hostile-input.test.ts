/**
 * Issue 13's property-based fuzz: hostile JSON bodies, raw bodies, paths, query strings,
 * multipart streams, socket.io packets, binary metric columns, Range headers and MLflow
 * messages on every MLflow endpoint (A's ids in well-formed messages, a few fields hostile), generated
 * by fast-check from a fixed seed, against every route family of a real server holding A's
 * objects of every kind. No answer may be a 5xx (or none at all), the server must stay up,
 * nothing may carry a stack trace or a server path, and every record and blob of A's must
 * read back identical afterwards. Callers are B, anonymous and A herself (creating only, so
 * that her seeded records stay as they were).
 */
import http from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { FeatureContext } from '../../src/app/feature.js';
import { mlflowEndpoints } from '../../src/services/mlflow/install-mlflow.js';
import { type AdversarialWorld, BACKENDS, snapshotOf, startAdversarialWorld } from './support/adversarial-world.js';
import { Figures } from './support/figures.js';
import { connectSocket, type SocketCaller } from './support/socket-caller.js';

const SEED = 13_2026;
const RUNS = Number(process.env.LARDER_FUZZ_RUNS ?? 150);

/** Every route family: services (collection and item), file routes, streaming routes, status routes. */
const COLLECTIONS = [
  'notes',
  'runs',
  'artifacts',
  'folders',
  'organizations',
  'models',
  'model-versions',
  'assets',
  'asset-tags',
  'datasets',
  'dataset-versions',
  'dataset-labels',
  'dataset-members',
  'annotations',
  'coco-imports',
  'coco-exports',
  'stock-repos',
  'stock-commits',
  'tfjs-models',
  'onnx-models',
  'users',
  'api-keys',
  'metrics',
  'lineage',
  'authentication',
  'constructor',
  '__proto__',
];
const ROUTES = (ids: Record<string, string>): string[] => [
  '/blobs',
  `/blobs/${ids.blob}`,
  '/blobs/compose',
  '/blobs/gc',
  '/info',
  '/whoami',
  '/health',
  `/runs/${ids.run}/files/weights`,
  `/runs/${ids.run}/data-logs/sample`,
  `/artifacts/${ids.artifact}/objects/w.bin`,
  `/artifacts/${ids.artifact}/archive`,
  `/model-files/${ids.modelVersion}/config.yaml`,
  `/model-named-files/${ids.model}/config`,
  `/assets/${ids.asset}/file`,
  `/assets/${ids.asset}/thumbnail`,
  `/assets/${ids.marcelleUrl}`,
  `/tfjs-models/${ids.tfjsModel}/model.json`,
  `/onnx-models/${ids.onnxModel}/net.onnx`,
  `/stock-objects/${ids.stockRepo}/${ids.stockObject}`,
  `/stock-objects/${ids.stockRepo}/missing`,
  `/stock-refs/${ids.stockRepo}/main`,
  `/stock-packs/${ids.stockRepo}`,
  `/stock-packs/${ids.stockRepo}/${'0'.repeat(64)}`,
  `/stock-objects/${ids.stockRepo}/locate`,
  `/coco-exports/${ids.datasetVersion}`,
  '/assets/upload',
  '/tfjs-models/upload',
  '/onnx-models/upload',
  '/metrics',
  '/run-logs',
  '/run-images',
  '/run-histograms',
  '/api/2.0/mlflow/experiments/search',
  '/api/2.0/mlflow/runs/search',
  '/api/2.0/mlflow-artifacts/artifacts/x',
];

/**
 * MLflow's endpoints as Larder serves them, `<METHOD> <path>` under each of its prefixes;
 * `{name}` is a path parameter. Taken from the dispatcher's own table (built over an empty
 * context: no handler runs), so every endpoint the face gains is attacked here too.
 */
const MLFLOW_ENDPOINTS = Object.keys(mlflowEndpoints({} as FeatureContext)).sort();
const MLFLOW_PREFIXES = ['/api/2.0/mlflow', '/ajax-api/2.0/mlflow', '/api/3.0/mlflow'];

/** Field names of MLflow's request messages (service.proto, model_registry.proto) and a few near misses. */
const MLFLOW_FIELDS = [
  'experiment_id',
  'experiment_ids',
  'run_id',
  'run_uuid',
  'run_ids',
  'name',
  'new_name',
  'key',
  'value',
  'timestamp',
  'step',
  'filter',
  'filter_string',
  'order_by',
  'max_results',
  'page_token',
  'metrics',
  'params',
  'tags',
  'model_id',
  'model_ids',
  'version',
  'alias',
  'stage',
  'source',
  'trace_id',
  'trace_ids',
  'request_id',
  'description',
  'artifact_location',
  'status',
  'start_time',
  'end_time',
  'run_view_type',
  'view_type',
  'datasets',
  'inputs',
  'outputs',
  'models',
  'model_json',
  'metric_key',
  'metric_keys',
  'start_step',
  'end_step',
  'path',
  'archive_existing_versions',
  'trace_info',
  'trace',
  'location',
  'max_timestamp_millis',
  'user_id',
  'model_type',
  'source_run_id',
  'dataset_digest',
  'lifecycle_stage',
  'experiment_name',
  'run_name',
  'file_path',
  'upload_id',
];

/** Strings that have broken parsers, stores and path handling somewhere. */
const NASTY = [
  '',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff\ud800',
  '%',
  '%ZZ',
  '%00',
  '%2e%2e%2f',
  '../../etc/passwd',
  '..',
  '.',
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  '$where',
  '$or',
  '$regex',
  'a.b.c',
  'a[0]',
  "x'); DROP TABLE documents; --",
  '"',
  '\\',
  '\r\n',
  '😀',
  'e\u0301',
  'x'.repeat(5000),
  '1e400',
  '-0',
  'NaN',
  'null',
  'true',
];

const nasty = fc.constantFrom(...NASTY);
const text = fc.oneof(nasty, fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }));
const key = fc.oneof(
  nasty,
  fc.constantFrom(
    '_id',
    'userId',
    'public',
    'sha256',
    'size',
    'files',
    'thumbnail',
    'name',
    'email',
    'password',
    'role',
  ),
  fc.constantFrom('files.0', 'metrics.train.loss', 'access.readers', 'thumbnail.sha256', '$set', '$push'),
  fc.string({ maxLength: 12 }),
);
const scalar = fc.oneof(
  text,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -1, 0, 2 ** 53 + 1),
);

/** A JSON value nested `depth` deep, as arrays or objects. */
function nested(depth: number, asArray: boolean): unknown {
  let value: unknown = 'bottom';
  for (let level = 0; level < depth; level++) value = asArray ? [value] : { d: value };
  return value;
}

const jsonValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  ),
})).value;

/** MLflow filter strings, order clauses and numbers at the edges of what the grammar and the fields take. */
const mlflowText = fc.oneof(
  text,
  fc.constantFrom(
    'metrics.m > 1',
    "params.p = 'v' AND",
    'tags.`a` LIKE',
    'attributes.start_time > 1e99',
    'name ILIKE "%"',
    'x IN ()',
    "run_id IN ('a',",
    '( (',
    "tags.a = 'b' OR (tags.c = 'd'",
    "datasets.digest IN ('a', 'b')",
    'metrics.`m` DESC, attributes.x',
    '-1',
    '1e400',
    '9007199254740993',
    'NaN',
  ),
);
const mlflowValue: fc.Arbitrary<unknown> = fc.oneof(
  jsonValue,
  mlflowText,
  fc.array(fc.record({ key: mlflowText, value: fc.oneof(scalar, mlflowText), timestamp: scalar, step: scalar }), {
    maxLength: 3,
  }),
  fc
    .constantFrom(1001, 3000)
    .map((count) => Array.from({ length: count }, (_, step) => ({ key: 'k', value: step, timestamp: step, step }))),
);

/**
 * How deep to bury a value, if at all: the nested value itself is built inside each run,
 * since fast-check prints and shrinks what it generates, recursively.
 */
const burial = fc.option(fc.tuple(fc.constantFrom(99, 100, 101, 1100, 2000), fc.boolean()), { freq: 4 });
const buried = (value: unknown, depth: [number, boolean] | null) =>
  depth === null ? value : { value, deep: nested(depth[0], depth[1]) };

/** Percent-encoding that never throws (a lone surrogate goes as it is). */
function encode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return value;
  }
}

const method = fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS');
const contentType = fc.constantFrom(
  'application/json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/octet-stream',
  'multipart/form-data',
  'multipart/form-data; boundary=x',
  'application/vnd.larder.metric-columns',
  '',
);

const percentSegment = fc.oneof(
  nasty.map(encode),
  nasty,
  fc.string({ maxLength: 30 }).map((value) => value.replace(/[/?#]/g, '')),
  fc.constantFrom('%', '%Z', '%ZZ', '%E0%A4%A', '%C0%AF', '%FF', '%2F', '%25'),
);

const queryString = fc.oneof(
  fc
    .array(
      fc.tuple(
        fc.oneof(
          key,
          fc.constantFrom(
            '$limit',
            '$skip',
            '$sort[name]',
            '$select[]',
            '$distinct',
            '$or[0][_id]',
            '_id[$in][]',
            'x[$gt]',
            'x[$regex]',
            'x[$like]',
          ),
          fc.integer({ min: 1, max: 80 }).map((depth) => `a${'[b]'.repeat(depth)}`),
        ),
        fc.oneof(text, fc.integer().map(String), fc.constantFrom('-1', '1e400', 'NaN', '%00', '%ZZ', '[]', '{}')),
      ),
      { maxLength: 6 },
    )
    .map((pairs) => pairs.map(([name, value]) => `${encode(name)}=${encode(value)}`).join('&')),
  fc.string({ maxLength: 60 }),
  fc.constantFrom('%', '%ZZ=1', '&&&', '=', '$limit=99999999999999999999', 'a[=1', 'a]]=1'),
);

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what the server must refuse.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether a body is past Larder's documented input limits (design.md, "Input limits"), which every store must refuse alike. */
function pastInputLimits(value: unknown): string | undefined {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (typeof item === 'string' && UNSTORABLE.test(item)) {
      return 'holds unstorable text';
    }
    if (item !== null && typeof item === 'object') {
      if (depth > 100) return 'is nested deeper than 100';
      for (const [name, child] of Object.entries(item)) {
        if (UNSTORABLE.test(name)) return 'has an unstorable key';
        stack.push([child, depth + 1]);
      }
    }
  }
  return undefined;
}

const SECRETS = /"stack"|node_modules|\/work\/|\/tmp\/|at [A-Za-z.]+ \(|\.ts:\d+|\.js:\d+/;

/**
 * Sends the headers of a request announcing more body than it sends, then `bytes`, then
 * drops the connection after `waitMs`: what a client that goes away mid-upload does.
 */
function cutOff(
  url: string,
  methodName: string,
  path: string,
  type: string,
  token: string,
  bytes: Buffer,
  waitMs: number,
) {
  return new Promise<void>((resolve) => {
    const request = http.request(`${url}${path}`, {
      method: methodName,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': type,
        'content-length': String(bytes.length + 10_000),
      },
    });
    request.on('error', () => resolve());
    request.on('response', (response) => {
      response.resume();
      response.on('end', () => resolve());
      response.on('error', () => resolve());
    });
    request.write(bytes);
    setTimeout(() => {
      request.destroy();
      resolve();
    }, waitMs);
  });
}

describe.each(BACKENDS)('hostile input on %s', (backend) => {
  let world: AdversarialWorld;
  let before: Record<string, string>;
  const figures = new Figures(`fuzz-${backend.replace(/ \+ /g, '-')}`);
  const sockets: SocketCaller[] = [];
  let tokens: (string | undefined)[];

  /** Sends one request and records what is wrong with its answer. */
  async function attempt(
    label: string,
    path: string,
    init: { method: string; token?: string | undefined; headers?: Record<string, string>; body?: string | Uint8Array },
  ): Promise<number> {
    figures.attempts += 1;
    const headers: Record<string, string> = { ...init.headers };
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    const withBody = init.body !== undefined && init.method !== 'GET' && init.method !== 'HEAD';
    let status = 0;
    let answer = '';
    try {
      const response = await fetch(world.server.url + path, {
        method: init.method,
        headers,
        ...(withBody ? { body: init.body as RequestInit['body'] } : {}),
        signal: AbortSignal.timeout(20_000),
      });
      status = response.status;
      answer = (await response.text()).slice(0, 4000);
    } catch (error) {
      answer = `no answer: ${(error as Error).message}`;
    }
    const request = `${label}: ${init.method} ${path.slice(0, 200)} ${JSON.stringify(init.headers ?? {})} ${String(init.body ?? '').slice(0, 160)}`;
    if (status === 0 || status >= 500) figures.add('5xx', `${request} → ${status} ${answer.slice(0, 200)}`);
    if (SECRETS.test(answer)) figures.add('leak', `${request} → internals in the answer: ${answer.slice(0, 300)}`);
    return status;
  }

  beforeAll(async () => {
    world = await startAdversarialWorld(backend);
    tokens = [world.b.token, undefined, world.a.token];
    sockets.push(
      await connectSocket(world.server.url, world.b.token),
      await connectSocket(world.server.url, undefined),
    );
    before = await snapshotOf(world);
  }, 120_000);

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await world?.close();
  });

  /**
   * A's seeded records must stay as they were: A only reads and creates (never an
   * organisation, which her own account record lists); B stands in for her otherwise.
   */
  const callerFor = (index: number, methodName: string, path: string) => {
    const token = tokens[index % tokens.length];
    const harmless =
      (methodName === 'POST' || methodName === 'GET') && !/^\/(organizations|users|authentication)\b/.test(path);
    return token === world.a.token && !harmless ? world.b.token : token;
  };

  test('hostile JSON bodies on every service, collection and item', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...COLLECTIONS),
        fc.constantFrom('POST', 'PUT', 'PATCH'),
        fc.oneof(fc.constant(''), fc.constantFrom('a-real-id', 'made-up'), percentSegment),
        jsonValue,
        burial,
        fc.nat(),
        async (service, methodName, item, generated, depth, who) => {
          const body = buried(generated, depth);
          const id = item === 'a-real-id' ? (world.ids.note as string) : item === 'made-up' ? 'x1' : item;
          const path = methodName === 'POST' || id === '' ? `/${service}` : `/${service}/${id}`;
          const token = callerFor(who, methodName === 'POST' && path === `/${service}` ? 'POST' : 'PATCH', path);
          const sent = JSON.stringify(body) ?? 'null';
          const status = await attempt('json body', path, {
            method: methodName,
            token,
            headers: { 'content-type': 'application/json' },
            body: sent,
          });
          const problem = pastInputLimits(body);
          if (problem && status > 0 && status < 300) {
            figures.add(
              'wrongly accepted',
              `${methodName} ${path} with a body that ${problem} → ${status}: ${sent.slice(0, 120)}`,
            );
          }
        },
      ),
      { seed: SEED, numRuns: RUNS * 2, endOnFailure: true },
    );
  });

  test('hostile messages on every MLflow endpoint, with A’s ids in them', async () => {
    const real: Record<string, string> = {
      experiment_id: world.ids.folder as string,
      run_id: world.ids.run as string,
      run_uuid: world.ids.run as string,
      name: world.ids.modelName as string,
      model_id: world.ids.model as string,
      version: '1',
    };
    // A message every endpoint would mostly take (A's ids, well-formed lists), with a few of
    // its fields left out and a few replaced by hostile values, so that calls get past the
    // first check and into the handlers.
    const point = { key: 'm', value: 1, timestamp: 1_700_000_000_000, step: 0 };
    const base: Record<string, unknown> = {
      ...real,
      run_ids: [real.run_id],
      experiment_ids: [real.experiment_id],
      key: 'm',
      value: '1',
      metric_key: 'm',
      metrics: [point, { ...point, step: 1 }, { ...point, key: 'n' }],
      params: [{ key: 'p', value: 'v' }],
      tags: [{ key: 't', value: 'v' }],
      filter: "params.p = 'v'",
      filter_string: "metrics.m > 0 and tags.t = 'v'",
      order_by: ['metrics.m DESC'],
      max_results: 10,
      alias: 'champion',
      stage: 'Production',
      source: `runs:/${real.run_id}/model`,
      timestamp: 1_700_000_000_000,
      step: 0,
    };
    const field = fc.constantFrom(...MLFLOW_FIELDS, ...Object.keys(base));
    const message = fc
      .tuple(
        fc.subarray(Object.keys(base)),
        fc.dictionary(field, fc.oneof(mlflowValue, fc.constantFrom(...Object.values(real))), { maxKeys: 3 }),
      )
      .map(([left, hostile]) => {
        const fields: Record<string, unknown> = { ...base };
        for (const name of left) delete fields[name];
        return Object.assign(fields, hostile);
      });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...MLFLOW_ENDPOINTS),
        fc.constantFrom(...MLFLOW_PREFIXES),
        fc.oneof(fc.constantFrom(...Object.values(real)), percentSegment),
        message,
        fc.boolean(),
        fc.nat(),
        async (endpoint, prefix, parameter, fields, asQuery, who) => {
          const [methodName, template] = endpoint.split(' ') as [string, string];
          const path = prefix + template.replace(/\{\w+\}/g, parameter);
          // A only reads here: her runs, experiments and models are what B's calls must not change.
          const token = methodName === 'GET' ? tokens[who % tokens.length] : tokens[who % 2];
          if (methodName === 'GET' || (methodName === 'DELETE' && asQuery)) {
            const query = Object.entries(fields)
              .flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((each) => [name, each] as const))
              .slice(0, 50)
              .map(
                ([name, each]) =>
                  `${encode(name)}=${encode(typeof each === 'string' ? each : (JSON.stringify(each) ?? ''))}`,
              )
              .join('&');
            await attempt('mlflow query', `${path}?${query}`, { method: methodName, token });
          } else {
            await attempt('mlflow message', path, {
              method: methodName,
              token,
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(fields),
            });
          }
        },
      ),
      { seed: SEED + 7, numRuns: RUNS * 3, endOnFailure: true },
    );
  });

  test('raw bodies of any bytes and content type on every route', async () => {
    const routes = [...COLLECTIONS.map((name) => `/${name}`), ...ROUTES(world.ids)];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        method,
        contentType,
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.string({ maxLength: 200 }).map((value) => new TextEncoder().encode(value)),
          fc
            .constantFrom('{', '{"a":', '[', '{"a":1}garbage', 'null', '"x"', '1e400', '{"__proto__":{"x":1}}')
            .map((value) => new TextEncoder().encode(value)),
          fc.constant(new TextEncoder().encode(`${'['.repeat(50_000)}${']'.repeat(50_000)}`)),
        ),
        fc.nat(),
        async (path, methodName, type, bytes, who) => {
          await attempt('raw body', path, {
            method: methodName,
            token: callerFor(who, methodName, path),
            headers: type ? { 'content-type': type } : {},
            body: bytes,
          });
        },
      ),
      { seed: SEED + 1, numRuns: RUNS * 2, endOnFailure: true },
    );
  });

  test('hostile paths and query strings on every route', async () => {
    const routes = [...COLLECTIONS.map((name) => `/${name}`), ...ROUTES(world.ids)];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.array(percentSegment, { maxLength: 3 }),
        queryString,
        fc.constantFrom('GET', 'HEAD', 'DELETE'),
        fc.nat(),
        async (route, segments, query, methodName, who) => {
          const path = [route, ...segments].join('/');
          await attempt('path and query', `${path}${query ? `?${query}` : ''}`, {
            method: methodName,
            token: callerFor(who, methodName, path),
          });
        },
      ),
      { seed: SEED + 2, numRuns: RUNS * 2, endOnFailure: true },
    );
  });

  test('hostile multipart streams on the three upload routes', async () => {
    const part = fc.record({
      field: fc.oneof(
        fc.constantFrom('file', 'model.json', 'model.weights.bin', 'a.onnx', 'photo.png', 'tags', 'public'),
        text,
      ),
      filename: fc.option(fc.oneof(text, fc.constantFrom('a.png', '../../x.png', '')), { nil: undefined }),
      bytes: fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.constant(new Uint8Array([0x89, 0x50, 0x4e, 0x47]))),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/assets/upload', '/tfjs-models/upload', '/onnx-models/upload'),
        fc.array(part, { maxLength: 3 }),
        fc.oneof(
          fc.constant('x'),
          fc.string({ minLength: 1, maxLength: 70 }).map((value) => value.replace(/[\r\n";]/g, '')),
        ),
        fc.constantFrom('whole', 'truncated', 'no-close', 'garbage-headers', 'no-boundary-header'),
        fc.nat(),
        fc.nat(),
        async (route, parts, boundary, damage, cut, who) => {
          const chunks: Uint8Array[] = [];
          const encoder = new TextEncoder();
          for (const { field, filename, bytes } of parts) {
            const disposition =
              damage === 'garbage-headers'
                ? `Content-Disposition form-data name=${field}`
                : `Content-Disposition: form-data; name="${field}"${filename === undefined ? '' : `; filename="${filename}"`}`;
            chunks.push(encoder.encode(`--${boundary}\r\n${disposition}\r\n\r\n`), bytes, encoder.encode('\r\n'));
          }
          if (damage !== 'no-close') chunks.push(encoder.encode(`--${boundary}--\r\n`));
          let body = Buffer.concat(chunks);
          if (damage === 'truncated') body = body.subarray(0, cut % (body.length + 1));
          await attempt('multipart', route, {
            method: 'POST',
            token: tokens[who % 2],
            headers: {
              'content-type':
                damage === 'no-boundary-header' ? 'multipart/form-data' : `multipart/form-data; boundary=${boundary}`,
            },
            body,
          });
        },
      ),
      { seed: SEED + 3, numRuns: RUNS * 2, endOnFailure: true },
    );
  });

  test('binary metric columns and Range headers', async () => {
    const files = ROUTES(world.ids).filter((route) =>
      /files|objects|archive|model|assets\/|blobs\/[0-9a-f]/.test(route),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 120 }).map((rest) => Buffer.concat([Buffer.from('LMC1'), Buffer.from(rest)])),
          fc
            .tuple(jsonValue, fc.uint8Array({ maxLength: 64 }), fc.integer({ min: -5, max: 5 }))
            .map(([header, rest, skew]) => {
              const json = Buffer.from(JSON.stringify(header) ?? 'null');
              const length = Buffer.alloc(4);
              length.writeUInt32LE(Math.max(0, json.length + skew));
              return Buffer.concat([Buffer.from('LMC1'), length, json, Buffer.from(rest)]);
            }),
        ),
        async (bytes) => {
          await attempt('metric columns', '/metrics', {
            method: 'POST',
            token: world.b.token,
            headers: { 'content-type': 'application/vnd.larder.metric-columns' },
            body: bytes,
          });
        },
      ),
      { seed: SEED + 4, numRuns: RUNS, endOnFailure: true },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...files),
        fc.oneof(
          fc
            .tuple(
              fc.option(fc.bigInt({ min: -5n, max: 10n ** 30n })),
              fc.option(fc.bigInt({ min: -5n, max: 10n ** 30n })),
            )
            .map(([start, end]) => `bytes=${start ?? ''}-${end ?? ''}`),
          fc.string({ maxLength: 30 }),
          fc.constantFrom('bytes=0-0,5-9', 'bytes=--1', 'bytes=1-0', 'items=0-1', 'bytes=0-', 'bytes=-0', 'bytes= 0-1'),
        ),
        fc.constantFrom('GET', 'HEAD'),
        async (path, range, methodName) => {
          await attempt('range', path, { method: methodName, token: world.a.token, headers: { range } });
        },
      ),
      { seed: SEED + 5, numRuns: RUNS, endOnFailure: true },
    );
  });

  test('uploads cut off mid-body leave the server up and answering', async () => {
    const streaming = [
      ['POST', '/blobs', 'application/octet-stream'],
      ['PUT', `/blobs/${'0'.repeat(64)}`, 'application/octet-stream'],
      ['POST', '/blobs/compose', 'application/json'],
      ['POST', '/assets/upload', 'multipart/form-data; boundary=x'],
      ['POST', '/tfjs-models/upload', 'multipart/form-data; boundary=x'],
      ['POST', '/onnx-models/upload', 'multipart/form-data; boundary=x'],
      ['POST', '/metrics', 'application/vnd.larder.metric-columns'],
      ['PUT', `/stock-refs/${world.own.stockRepo}/main`, 'application/json'],
      ['POST', '/notes', 'application/json'],
      ['PUT', '/api/2.0/mlflow-artifacts/artifacts/1/x.bin', 'application/octet-stream'],
    ] as const;
    const form = (field: string) =>
      `--x\r\nContent-Disposition: form-data; name="${field}"; filename="a.png"\r\n\r\n${'z'.repeat(2000)}`;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...streaming),
        fc.constantFrom('file', 'model.json', 'net.onnx', 'photo.png'),
        fc.nat({ max: 2500 }),
        fc.constantFrom(0, 1, 5, 20),
        async ([methodName, path, type], field, sent, waitMs) => {
          figures.attempts += 1;
          const body = type.startsWith('multipart') ? form(field) : `{"parts":["${'a'.repeat(64)}"]${'x'.repeat(2000)}`;
          await cutOff(
            world.server.url,
            methodName,
            path,
            type,
            world.b.token,
            Buffer.from(body).subarray(0, sent),
            waitMs,
          );
          const health = await fetch(`${world.server.url}/health`).catch(() => undefined);
          if (health?.status !== 200) {
            figures.add('5xx', `${methodName} ${path} cut off after ${sent} bytes: the server stopped answering`);
          }
        },
      ),
      { seed: SEED + 7, numRuns: RUNS, endOnFailure: true },
    );
  });

  test('hostile socket.io packets', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('find', 'get', 'create', 'update', 'patch', 'remove'),
        fc.oneof(fc.constantFrom(...COLLECTIONS), text),
        fc.array(jsonValue, { maxLength: 4 }),
        burial,
        fc.nat(),
        async (methodName, service, generated, depth, who) => {
          const args = depth === null ? generated : [...generated, buried(null, depth)];
          figures.attempts += 1;
          const socket = sockets[who % sockets.length] as SocketCaller;
          const answer = await socket.call(methodName, service, ...args);
          const request = `socket ${methodName} ${JSON.stringify(service).slice(0, 80)} ${JSON.stringify(args).slice(0, 160)}`;
          const shown = JSON.stringify(answer.body ?? '').slice(0, 4000);
          if (answer.status === 0 || answer.status >= 500)
            figures.add('5xx', `${request} → ${answer.status} ${shown.slice(0, 200)}`);
          if (SECRETS.test(shown)) figures.add('leak', `${request} → internals in the answer: ${shown.slice(0, 300)}`);
        },
      ),
      { seed: SEED + 6, numRuns: RUNS * 2, endOnFailure: true },
    );
  });

  test('the server is up, A’s records and blobs read back identical, and the figures are zero', async () => {
    expect((await world.server.request('GET', '/health')).status).toBe(200);
    const after = await snapshotOf(world);
    for (const [name, value] of Object.entries(before)) {
      if (after[name] !== value)
        figures.add('data changed', `${name}: ${value.slice(0, 240)} → ${after[name]?.slice(0, 240)}`);
    }
    await figures.report();
    expect(figures.attempts).toBeGreaterThan(RUNS * 10);
    expect(figures.summary()).toMatchObject({ leaks: 0, '5xx': 0, wronglyAccepted: 0, dataChanged: 0 });
  });
});
