/**
 * Issue 13's adversarial suite: two ordinary users (A owns one private object of every kind,
 * B and an anonymous caller try to reach them) against a real server, on SQLite + folder
 * blobs and, when CI provides them, PostgreSQL + S3. Every probe at A's real object is paired
 * with the same probe at a made-up one, and the answers must match (`paired-probes.ts`):
 * reads by id and by query (`$or`, `$in`, `$select`, `$limit=0` counts), writes, file and
 * download routes, B's own records naming A's blobs (every write shape, REST and socket.io),
 * compose, lineage, chosen ids, realtime events and admin routes. A's objects and blobs must
 * read back unchanged at the end. The figures are printed and written to `.vitest-tmp/`.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type AdversarialWorld,
  BACKENDS,
  RECORDS,
  snapshotOf,
  startAdversarialWorld,
} from './support/adversarial-world.js';
import { Figures } from './support/figures.js';
import {
  type Answer,
  madeUpLike,
  type Probe,
  type ProbeCall,
  runPairedProbes,
  type Who,
} from './support/paired-probes.js';
import { connectSocket, type SocketCaller } from './support/socket-caller.js';

/** Blob-holding files, by route. */
const FILE_ROUTES: [path: (t: string) => string, target: string][] = [
  [(t) => `/runs/${t}/files/weights`, 'run'],
  [(t) => `/runs/${t}/data-logs/sample`, 'run'],
  [(t) => `/artifacts/${t}/objects/w.bin`, 'artifact'],
  [(t) => `/artifacts/${t}/archive`, 'artifact'],
  [(t) => `/model-files/${t}/config.yaml`, 'modelVersion'],
  [(t) => `/model-named-files/${t}/config`, 'model'],
  [(t) => `/assets/${t}/file`, 'asset'],
  [(t) => `/assets/${t}/thumbnail`, 'asset'],
  [(t) => `/tfjs-models/${t}/model.json`, 'tfjsModel'],
  [(t) => `/onnx-models/${t}/net.onnx`, 'onnxModel'],
  [(t) => `/assets/${t}`, 'marcelleUrl'],
  [(t) => `/blobs/${t}`, 'blob'],
  [(t) => `/blobs/${t}`, 'picture'],
  [(t) => `/blobs/${t}`, 'thumbnail'],
  [(t) => `/stock-objects/${t}/__OBJECT__`, 'stockRepo'],
  [(t) => `/stock-commits?repo=${t}`, 'stockRepo'],
  [(t) => `/stock-packs/${t}`, 'stockRepo'],
  [(t) => `/coco-exports/${t}`, 'datasetVersion'],
  [(t) => `/dataset-members?versionId=${t}`, 'datasetVersion'],
  [(t) => `/dataset-labels?versionId=${t}`, 'datasetVersion'],
  [(t) => `/annotations?versionId=${t}`, 'datasetVersion'],
  [(t) => `/lineage?kind=run&id=${t}`, 'run'],
  [(t) => `/lineage?kind=run&id=${t}&direction=downstream`, 'run'],
  [(t) => `/lineage?kind=model-version&id=${t}`, 'modelVersion'],
  [(t) => `/lineage?kind=dataset-version&id=${t}&direction=downstream`, 'datasetVersion'],
  [(t) => `/lineage?kind=artifact&id=${t}`, 'artifact'],
  [(t) => `/metrics?run=${t}`, 'run'],
  [(t) => `/metrics?run=${t}&type=train&name=loss`, 'run'],
  [(t) => `/run-logs?run=${t}`, 'run'],
  [(t) => `/run-images?run=${t}`, 'run'],
  [(t) => `/run-histograms?run=${t}`, 'run'],
];

/** Finds by a field other than the id: names, paths, e-mails. */
const FIELD_QUERIES: [path: (t: string) => string, target: string][] = [
  [(t) => `/runs?name=${encodeURIComponent(t)}&$limit=0`, 'runName'],
  [(t) => `/runs?folder=${encodeURIComponent(t)}`, 'folderPath'],
  [(t) => `/folders?path=${encodeURIComponent(t)}`, 'folderPath'],
  [(t) => `/folders?ancestors=${encodeURIComponent(t)}`, 'home'],
  [(t) => `/folders?path=${encodeURIComponent(t)}`, 'home'],
  [(t) => `/models?name=${encodeURIComponent(t)}&$limit=0`, 'modelName'],
  [(t) => `/organizations?name=${encodeURIComponent(t)}`, 'organizationName'],
  [(t) => `/users?email=${encodeURIComponent(t)}&$limit=0`, 'email'],
  [(t) => `/users?$or[0][email]=${encodeURIComponent(t)}&$or[1][email]=nobody`, 'email'],
  [(t) => `/assets?sha256=${t}&$limit=0`, 'picture'],
  [(t) => `/notes?attachment.sha256=${t}&$limit=0`, 'blob'],
  [(t) => `/${t}`, 'service'],
];

const random = () => Math.random().toString(36).slice(2, 10);

/** A sweep sends hundreds of paired probes: on a loaded 2-core machine it can pass 30 s. */
const PROBE_SWEEP_TIMEOUT_MS = 120_000;

describe.each(BACKENDS)('A, B and anonymous callers on %s', (backend) => {
  let world: AdversarialWorld;
  const figures = new Figures(`adversarial-${backend.replace(/ \+ /g, '-')}`);
  const sockets = new Map<string, SocketCaller>();
  let before: Record<string, string>;
  let callers: Who[];
  const fakes: Record<string, string> = {};

  const rest =
    (method: string, path: (t: string) => string, body?: (t: string) => unknown): ProbeCall =>
    async (target, who) => {
      const payload = body?.(target);
      return world.server.request(method, path(target), {
        ...(who.token ? { token: who.token } : {}),
        ...(payload === undefined ? {} : { body: payload }),
      });
    };
  const socket =
    (method: string, service: string, args: (t: string) => unknown[]): ProbeCall =>
    async (target, who) =>
      (sockets.get(who.name) as SocketCaller).call(method, service, ...args(target));

  beforeAll(async () => {
    world = await startAdversarialWorld(backend);
    callers = [
      { name: 'B', token: world.b.token },
      { name: 'anonymous', token: undefined },
    ];
    sockets.set('B', await connectSocket(world.server.url, world.b.token));
    sockets.set('anonymous', await connectSocket(world.server.url, undefined));
    fakes.marcelleUrl = `${madeUpLike(world.ids.blob as string)}/photo.png`;
    before = await snapshotOf(world);
  }, 120_000);

  afterAll(async () => {
    for (const caller of sockets.values()) caller.close();
    await world?.close();
  });

  test('control: A herself reaches every object and file the probes aim at', async () => {
    const { server, a, ids } = world;
    const unreachable: string[] = [];
    for (const [service, key] of RECORDS) {
      if (service === 'dataset-members' || service === 'stock-commits') continue;
      const answer = await server.request('GET', `/${service}/${encodeURIComponent(ids[key] as string)}`, {
        token: a.token,
      });
      if (answer.status !== 200) unreachable.push(`GET /${service}/:${key} → ${answer.status}`);
    }
    for (const [path, key] of FILE_ROUTES) {
      const route = path(ids[key] as string).replace('__OBJECT__', ids.stockObject as string);
      const response = await fetch(server.url + route, { headers: { authorization: `Bearer ${a.token}` } });
      if (response.status >= 300) unreachable.push(`GET ${route} → ${response.status}`);
    }
    for (const [path, key] of FIELD_QUERIES) {
      const answer = await server.request('GET', path(ids[key] as string), { token: a.token });
      const found = answer.body?.total ?? answer.body?.data?.length ?? 1;
      if (answer.status !== 200 || found === 0)
        unreachable.push(`GET ${path(`:${key}`)} → ${answer.status}, ${found} found`);
    }
    const mlflow = '/api/2.0/mlflow';
    for (const path of [
      `${mlflow}/runs/get?run_id=${ids.run}`,
      `${mlflow}/experiments/get?experiment_id=${ids.folder}`,
      `${mlflow}/experiments/get-by-name?experiment_name=${encodeURIComponent(ids.folderPath as string)}`,
      `${mlflow}/registered-models/get?name=${encodeURIComponent(ids.modelName as string)}`,
    ]) {
      const answer = await server.request('GET', path, { token: a.token });
      if (answer.status !== 200)
        unreachable.push(`GET ${path} → ${answer.status} ${JSON.stringify(answer.body).slice(0, 100)}`);
    }
    expect(unreachable).toEqual([]);
  });

  test(
    'reads, writes and removals of A’s records by id and by query answer as for made-up ids',
    async () => {
      const probes: Probe[] = [];
      for (const [service, target] of RECORDS) {
        const at = (suffix: string) => (t: string) => `/${service}/${encodeURIComponent(t)}${suffix}`;
        const query = (q: (t: string) => string) => (t: string) => `/${service}?${q(encodeURIComponent(t))}`;
        const add = (label: string, call: ProbeCall) => probes.push({ label: `${label} on ${service}`, target, call });
        add('GET by id', rest('GET', at('')));
        add('GET by id with $select', rest('GET', at('?$select[]=_id&$select[]=name')));
        add('HEAD by id', rest('HEAD', at('')));
        add(
          'find by _id',
          rest(
            'GET',
            query((t) => `_id=${t}`),
          ),
        );
        add(
          'find by _id $in',
          rest(
            'GET',
            query((t) => `_id[$in][]=${t}&_id[$in][]=nothing`),
          ),
        );
        add(
          'find by $or',
          rest(
            'GET',
            query((t) => `$or[0][_id]=${t}&$or[1][_id]=nothing`),
          ),
        );
        add(
          'count by _id',
          rest(
            'GET',
            query((t) => `_id=${t}&$limit=0`),
          ),
        );
        add(
          'find $select by _id',
          rest(
            'GET',
            query((t) => `_id=${t}&$select[]=_id`),
          ),
        );
        add(
          'PATCH by id',
          rest('PATCH', at(''), () => ({ description: 'taken by B' })),
        );
        add(
          'PUT by id',
          rest('PUT', at(''), () => ({ name: 'taken by B' })),
        );
        add('DELETE by id', rest('DELETE', at('')));
        add(
          'multi PATCH by _id',
          rest(
            'PATCH',
            query((t) => `_id=${t}`),
            () => ({ description: 'taken by B' }),
          ),
        );
        add(
          'multi DELETE by _id',
          rest(
            'DELETE',
            query((t) => `_id=${t}`),
          ),
        );
        add(
          'socket get',
          socket('get', service, (t) => [t, {}]),
        );
        add(
          'socket find by _id',
          socket('find', service, (t) => [{ _id: t }]),
        );
        add(
          'socket find $in',
          socket('find', service, (t) => [{ _id: { $in: [t] }, $limit: 0 }]),
        );
        add(
          'socket patch',
          socket('patch', service, (t) => [t, { description: 'taken by B' }, {}]),
        );
        add(
          'socket update',
          socket('update', service, (t) => [t, { name: 'taken by B' }, {}]),
        );
        add(
          'socket remove',
          socket('remove', service, (t) => [t, {}]),
        );
        add(
          'socket multi patch',
          socket('patch', service, (t) => [null, { description: 'x' }, { _id: t }]),
        );
      }
      probes.push(
        {
          label: 'GET by id on A’s own service',
          target: 'serviceRecord',
          call: rest('GET', (t) => `/${world.ids.service}/${t}`),
        },
        {
          label: 'organization home folder',
          target: 'organizationName',
          call: rest('GET', (t) => `/folders?path=/${t}`),
        },
      );
      await runPairedProbes(probes, callers, world.ids, fakes, world.canary, figures);
    },
    PROBE_SWEEP_TIMEOUT_MS,
  );

  test(
    'file, download, lineage, metrics and name queries answer as for made-up targets',
    async () => {
      const probes: Probe[] = [];
      for (const [path, target] of FILE_ROUTES) {
        const route = (t: string) => path(t).replace('__OBJECT__', world.ids.stockObject as string);
        probes.push({ label: `GET ${path(`:${target}`)}`, target, call: rest('GET', route) });
        probes.push({ label: `HEAD ${path(`:${target}`)}`, target, call: rest('HEAD', route) });
        probes.push({ label: `GET ${path(`:${target}`)} with a range`, target, call: rangeGet(route) });
      }
      for (const [path, target] of FIELD_QUERIES) {
        probes.push({ label: `GET ${path(`:${target}`)}`, target, call: rest('GET', path) });
      }
      const mlflow = '/api/2.0/mlflow';
      const mlflowProbes: [string, string, ProbeCall][] = [
        ['run', 'GET runs/get', rest('GET', (t) => `${mlflow}/runs/get?run_id=${t}`)],
        [
          'run',
          'GET metrics/get-history',
          rest('GET', (t) => `${mlflow}/metrics/get-history?run_id=${t}&metric_key=loss`),
        ],
        [
          'run',
          'POST runs/update',
          rest(
            'POST',
            () => `${mlflow}/runs/update`,
            (t) => ({ run_id: t, status: 'KILLED' }),
          ),
        ],
        [
          'run',
          'POST runs/set-tag',
          rest(
            'POST',
            () => `${mlflow}/runs/set-tag`,
            (t) => ({ run_id: t, key: 'k', value: 'v' }),
          ),
        ],
        [
          'run',
          'POST runs/log-metric',
          rest(
            'POST',
            () => `${mlflow}/runs/log-metric`,
            (t) => ({ run_id: t, key: 'loss', value: 1, timestamp: 1, step: 9 }),
          ),
        ],
        [
          'run',
          'POST runs/delete',
          rest(
            'POST',
            () => `${mlflow}/runs/delete`,
            (t) => ({ run_id: t }),
          ),
        ],
        ['folder', 'GET experiments/get', rest('GET', (t) => `${mlflow}/experiments/get?experiment_id=${t}`)],
        [
          'folderPath',
          'GET experiments/get-by-name',
          rest('GET', (t) => `${mlflow}/experiments/get-by-name?experiment_name=${encodeURIComponent(t)}`),
        ],
        [
          'folder',
          'POST runs/search',
          rest(
            'POST',
            () => `${mlflow}/runs/search`,
            (t) => ({ experiment_ids: [t] }),
          ),
        ],
        [
          'folder',
          'POST runs/create',
          rest(
            'POST',
            () => `${mlflow}/runs/create`,
            (t) => ({ experiment_id: t }),
          ),
        ],
        [
          'folder',
          'POST experiments/delete',
          rest(
            'POST',
            () => `${mlflow}/experiments/delete`,
            (t) => ({ experiment_id: t }),
          ),
        ],
        [
          'modelName',
          'GET registered-models/get',
          rest('GET', (t) => `${mlflow}/registered-models/get?name=${encodeURIComponent(t)}`),
        ],
        [
          'modelName',
          'GET model-versions/get',
          rest('GET', (t) => `${mlflow}/model-versions/get?name=${encodeURIComponent(t)}&version=1`),
        ],
        [
          'runName',
          'POST experiments/search',
          rest(
            'POST',
            () => `${mlflow}/experiments/search`,
            (t) => ({ filter: `name = '${t}'` }),
          ),
        ],
        [
          'runName',
          'POST runs/search by name',
          rest(
            'POST',
            () => `${mlflow}/runs/search`,
            (t) => ({ experiment_ids: [], filter: `attributes.run_name = '${t}'` }),
          ),
        ],
      ];
      for (const [target, label, call] of mlflowProbes) probes.push({ label: `MLflow ${label}`, target, call });
      // `$distinct` and open finds: whatever comes back, A's canary must not.
      for (const [service, target] of RECORDS) {
        for (const field of ['name', 'title', 'description', 'filename', 'email', 'tags', 'secret']) {
          probes.push({
            label: `GET /${service}?$distinct=${field}`,
            target,
            call: rest('GET', (t) => `/${service}?$distinct=${field}&_id[$ne]=${encodeURIComponent(t)}`),
          });
        }
        probes.push({
          label: `GET /${service} (all)`,
          target,
          call: rest('GET', (t) => `/${service}?$limit=200&_id[$ne]=${encodeURIComponent(t)}`),
        });
      }
      probes.push(
        {
          label: 'GET /stock-objects/<B’s repo>/:stockObject',
          target: 'stockObject',
          call: rest('GET', (t) => `/stock-objects/${world.own.stockRepo}/${t}`),
        },
        {
          label: 'POST /stock-objects/:stockRepo/missing',
          target: 'stockRepo',
          call: rest(
            'POST',
            (t) => `/stock-objects/${t}/missing`,
            () => ({ objects: [world.ids.stockObject] }),
          ),
        },
        {
          label: 'POST /stock-objects/<B’s repo>/missing naming A’s object',
          target: 'stockObject',
          call: rest(
            'POST',
            () => `/stock-objects/${world.own.stockRepo}/missing`,
            (t) => ({ objects: [t] }),
          ),
        },
        {
          label: 'POST /stock-objects/:stockRepo/locate',
          target: 'stockRepo',
          call: rest(
            'POST',
            (t) => `/stock-objects/${t}/locate`,
            () => ({ objects: [world.ids.stockObject] }),
          ),
        },
        {
          label: 'PUT /stock-refs/:stockRepo/main',
          target: 'stockRepo',
          call: rest(
            'PUT',
            (t) => `/stock-refs/${t}/main`,
            () => ({ commit: world.ids.stockCommit }),
          ),
        },
        {
          label: 'PUT /stock-refs/<B’s repo>/main naming A’s commit',
          target: 'stockCommit',
          call: rest(
            'PUT',
            () => `/stock-refs/${world.own.stockRepo}/main`,
            (t) => ({ commit: t }),
          ),
        },
        {
          label: 'GET /assets/:asset/file?version=<A’s version>',
          target: 'datasetVersion',
          call: rest('GET', (t) => `/assets/${world.ids.asset}/file?version=${t}`),
        },
        {
          label: 'POST /dataset-members into A’s version',
          target: 'datasetVersion',
          call: rest(
            'POST',
            () => '/dataset-members',
            (t) => ({ versionId: t, assetIds: [world.own.asset] }),
          ),
        },
        {
          label: 'POST /dataset-versions from A’s dataset',
          target: 'dataset',
          call: rest(
            'POST',
            () => '/dataset-versions',
            (t) => ({ datasetId: t, name: 'b-version' }),
          ),
        },
        {
          label: 'POST /model-versions into A’s model',
          target: 'model',
          call: rest(
            'POST',
            () => '/model-versions',
            (t) => ({ modelId: t, files: [], pmf: {} }),
          ),
        },
        {
          label: 'POST /metrics to A’s run',
          target: 'run',
          call: rest(
            'POST',
            () => '/metrics',
            (t) => ({
              run: t,
              series: [{ type: 'train', name: 'loss', offset: 1, steps: [2], values: [1] }],
            }),
          ),
        },
        {
          label: 'POST /run-logs to A’s run',
          target: 'run',
          call: rest(
            'POST',
            () => '/run-logs',
            (t) => ({ run: t, seq: 7, records: [{ time: 1, stream: 'stdout', text: 'b was here' }] }),
          ),
        },
        {
          label: 'POST /run-histograms to A’s run',
          target: 'run',
          call: rest(
            'POST',
            () => '/run-histograms',
            (t) => ({
              run: t,
              key: 'b',
              name: 'w',
              step: 1,
              min: 0,
              max: 1,
              counts: [1],
              count: 1,
              sum: 0,
              sumSquares: 0,
              nonFinite: 0,
            }),
          ),
        },
        {
          label: 'POST /asset-tags on A’s picture',
          target: 'asset',
          call: rest(
            'POST',
            () => '/asset-tags',
            (t) => ({ ids: [t], add: ['b-was-here'] }),
          ),
        },
        {
          label: 'POST /coco-imports into A’s version',
          target: 'datasetVersion',
          call: rest(
            'POST',
            () => '/coco-imports',
            (t) => ({ versionId: t, coco: { images: [], annotations: [], categories: [] } }),
          ),
        },
      );
      await runPairedProbes(probes, callers, world.ids, fakes, world.canary, figures);
    },
    PROBE_SWEEP_TIMEOUT_MS,
  );

  /** GET with a Range header, answered with the bytes' hash (so equal bytes compare equal). */
  function rangeGet(path: (t: string) => string): ProbeCall {
    return async (target, who) => {
      const response = await fetch(world.server.url + path(target), {
        headers: { range: 'bytes=0-3', ...(who.token ? { authorization: `Bearer ${who.token}` } : {}) },
      });
      const bytes = Buffer.from(await response.arrayBuffer());
      const text = bytes.toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        body = response.status < 300 ? `bytes ${bytes.length}` : text;
      }
      return { status: response.status, body } satisfies Answer;
    };
  }

  test('B’s own records cannot name A’s blobs: every write shape, REST and socket.io, as for made-up hashes', async () => {
    const { own } = world;
    const hashes = ['blob', 'picture', 'thumbnail'];
    const writes: [label: string, call: ProbeCall][] = [
      [
        'POST /notes naming it',
        rest(
          'POST',
          () => '/notes',
          (h) => ({ title: 'b', file: { sha256: h } }),
        ),
      ],
      [
        'POST /notes nested deep',
        rest(
          'POST',
          () => '/notes',
          (h) => ({ a: { b: { c: [{ d: { sha256: h } }] } } }),
        ),
      ],
      [
        'POST /notes in an array',
        rest(
          'POST',
          () => '/notes',
          (h) => ({ files: [{ sha256: h, size: 1 }] }),
        ),
      ],
      [
        'POST /notes multi-record',
        rest(
          'POST',
          () => '/notes',
          (h) => [{ title: 'fine' }, { file: { sha256: h } }],
        ),
      ],
      [
        'PATCH own note',
        rest(
          'PATCH',
          () => `/notes/${own.note}`,
          (h) => ({ file: { sha256: h } }),
        ),
      ],
      [
        'PATCH own note, dotted key',
        rest(
          'PATCH',
          () => `/notes/${own.note}`,
          (h) => ({ 'file.sha256': h }),
        ),
      ],
      [
        'PATCH own note, dotted array key',
        rest(
          'PATCH',
          () => `/notes/${own.note}`,
          (h) => ({ 'files.0': { sha256: h } }),
        ),
      ],
      [
        'PUT own note',
        rest(
          'PUT',
          () => `/notes/${own.note}`,
          (h) => ({ title: 'b', file: { sha256: h } }),
        ),
      ],
      [
        'multi PATCH own notes',
        rest(
          'PATCH',
          () => `/notes?_id=${own.note}`,
          (h) => ({ file: { sha256: h } }),
        ),
      ],
      [
        'POST /runs with a file',
        rest(
          'POST',
          () => '/runs',
          (h) => ({ name: `r-${random()}`, files: { f: { sha256: h, size: 1 } } }),
        ),
      ],
      [
        'PATCH own run file, dotted',
        rest(
          'PATCH',
          () => `/runs/${own.run}`,
          (h) => ({ 'files.f': { sha256: h, size: 1, filename: 'f' } }),
        ),
      ],
      [
        'PATCH own run image data log',
        rest(
          'PATCH',
          () => `/runs/${own.run}`,
          (h) => ({ 'dataLogs.i': { type: 'image', data: { sha256: h, size: 1 } } }),
        ),
      ],
      [
        'POST /artifacts naming it',
        rest(
          'POST',
          () => '/artifacts',
          (h) => ({ name: `a-${random()}`, objects: [{ path: 'x', sha256: h, size: 1 }] }),
        ),
      ],
      [
        'PATCH own model named file',
        rest(
          'PATCH',
          () => `/models/${own.model}`,
          (h) => ({ 'files.config': { sha256: h, size: 1, filename: 'c' } }),
        ),
      ],
      [
        'POST /models with a named file',
        rest(
          'POST',
          () => '/models',
          (h) => ({ name: `m-${random()}`, files: { c: { sha256: h, size: 1, filename: 'c' } } }),
        ),
      ],
      [
        'POST /assets from it',
        rest(
          'POST',
          () => '/assets',
          (h) => ({ sha256: h, filename: 'x.png' }),
        ),
      ],
      [
        'POST /assets with it as thumbnail',
        rest(
          'POST',
          () => '/assets',
          (h) => ({ filename: 'x', thumbnail: { sha256: h } }),
        ),
      ],
      [
        'PATCH own asset thumbnail',
        rest(
          'PATCH',
          () => `/assets/${own.asset}`,
          (h) => ({ thumbnail: { sha256: h } }),
        ),
      ],
      [
        'PATCH own asset thumbnail, dotted',
        rest(
          'PATCH',
          () => `/assets/${own.asset}`,
          (h) => ({ 'thumbnail.sha256': h }),
        ),
      ],
      [
        'POST /assets with a Marcelle url',
        rest(
          'POST',
          () => '/assets',
          (h) => ({ filename: 'x.png', url: `${h}/x.png` }),
        ),
      ],
      [
        'POST /tfjs-models naming it',
        rest(
          'POST',
          () => '/tfjs-models',
          (h) => ({ name: `t-${random()}`, files: [['model.json', h]], public: true }),
        ),
      ],
      [
        'PATCH own tfjs model, dotted',
        rest(
          'PATCH',
          () => `/tfjs-models/${own.tfjsModel}`,
          (h) => ({ 'files.0': ['model.json', h] }),
        ),
      ],
      [
        'PATCH own tfjs model blobs',
        rest(
          'PATCH',
          () => `/tfjs-models/${own.tfjsModel}`,
          (h) => ({ blobs: [h] }),
        ),
      ],
      [
        'POST /blobs/compose of it',
        rest(
          'POST',
          () => '/blobs/compose',
          (h) => ({ parts: [h] }),
        ),
      ],
      ['socket create note naming it', socket('create', 'notes', (h) => [{ file: { sha256: h } }, {}])],
      ['socket multi create naming it', socket('create', 'notes', (h) => [[{ x: 1 }, { file: { sha256: h } }], {}])],
      ['socket patch own note, dotted', socket('patch', 'notes', (h) => [own.note, { 'file.sha256': h }, {}])],
      ['socket update own note', socket('update', 'notes', (h) => [own.note, { file: { sha256: h } }, {}])],
      [
        'socket patch own run file',
        socket('patch', 'runs', (h) => [own.run, { 'files.g': { sha256: h, size: 1 } }, {}]),
      ],
      [
        'socket patch own tfjs model',
        socket('patch', 'tfjs-models', (h) => [own.tfjsModel, { 'files.0': ['model.json', h] }, {}]),
      ],
      [
        'socket create asset thumbnail',
        socket('create', 'assets', (h) => [{ filename: 'y', thumbnail: { sha256: h } }, {}]),
      ],
    ];
    /** Routes that hand out what a record of this write holds. */
    const readBack = (label: string, id: string): string[] => {
      if (/run/.test(label)) return ['f', 'g'].map((f) => `/runs/${id}/files/${f}`).concat(`/runs/${id}/data-logs/i`);
      if (/artifact/.test(label)) return [`/artifacts/${id}/objects/x`, `/artifacts/${id}/archive`];
      if (/model named|models/.test(label)) return ['config', 'c'].map((f) => `/model-named-files/${id}/${f}`);
      if (/asset/.test(label)) return [`/assets/${id}/file`, `/assets/${id}/thumbnail`];
      if (/tfjs/.test(label)) return [`/tfjs-models/${id}/model.json`];
      return [];
    };
    const aBytes = new Set(hashes.map((key) => world.ids[key] as string));
    /** Whoever may read a record that now names A's blob must not receive her bytes through it. */
    async function fetchedBytes(path: string, label: string): Promise<void> {
      for (const who of callers) {
        const response = await fetch(world.server.url + path, {
          headers: who.token ? { authorization: `Bearer ${who.token}` } : {},
        });
        figures.attempts += 1;
        const hash = createHash('sha256')
          .update(Buffer.from(await response.arrayBuffer()))
          .digest('hex');
        if (response.status >= 500) figures.add('5xx', `${who.name}: GET ${path} → ${response.status}`);
        if (response.ok && aBytes.has(hash)) {
          figures.add('leak', `${who.name}: GET ${path} (after B: ${label}) → 200 with A's bytes`);
        }
      }
    }
    const probes: Probe[] = [];
    for (const target of hashes) {
      for (const [label, write] of writes) {
        const call: ProbeCall = async (hash, who) => {
          const answer = await write(hash, who);
          // Taken means stored: a server-kept field (a thumbnail) that is dropped names nothing.
          if (hash === world.ids[target] && answer.status < 300 && JSON.stringify(answer.body).includes(hash)) {
            figures.add(
              'wrongly accepted',
              `B: ${label} (${target}=${hash}) → ${answer.status} ${JSON.stringify(answer.body).slice(0, 160)}`,
            );
            const records = (Array.isArray(answer.body) ? answer.body : [answer.body]) as { _id?: string }[];
            for (const record of records) {
              for (const path of typeof record?._id === 'string' ? readBack(label, record._id) : [])
                await fetchedBytes(path, label);
            }
            await fetchedBytes(`/blobs/${hash}`, label);
          }
          return answer;
        };
        probes.push({ label, target, call });
      }
    }
    await runPairedProbes(probes, [callers[0] as Who], world.ids, fakes, world.canary, figures);
    // Whatever B's own records hold now, none of their routes hands out A's bytes.
    for (const path of [
      `/tfjs-models/${own.tfjsModel}/model.json`,
      `/assets/${own.asset}/thumbnail`,
      `/runs/${own.run}/files/f`,
      `/runs/${own.run}/files/g`,
      `/runs/${own.run}/data-logs/i`,
      `/model-named-files/${own.model}/config`,
    ]) {
      await fetchedBytes(path, 'all of the above');
    }
  });

  test('chosen ids tell nothing about A’s records', async () => {
    const chosen: [service: string, target: string, body: (t: string) => Record<string, unknown>][] = [
      ['notes', 'note', () => ({ title: 'b' })],
      ['runs', 'run', (t) => ({ name: `chosen-${t}` })],
      ['artifacts', 'artifact', (t) => ({ name: `chosen-${t}`, objects: [] })],
      ['datasets', 'dataset', (t) => ({ name: `chosen-${t}` })],
      ['stock-repos', 'stockRepo', (t) => ({ name: `chosen-${t}` })],
      ['assets', 'asset', () => ({ filename: 'chosen.png' })],
      ['tfjs-models', 'tfjsModel', (t) => ({ name: `chosen-${t}`, files: [] })],
      ['models', 'model', (t) => ({ name: `chosen-${t}` })],
    ];
    const probes: Probe[] = [];
    for (const [service, target, body] of chosen) {
      probes.push({
        label: `POST /${service} with _id`,
        target,
        call: rest(
          'POST',
          () => `/${service}`,
          (t) => ({ ...body(t), _id: t }),
        ),
      });
      probes.push({
        label: `socket create ${service} with _id`,
        target,
        call: socket('create', service, (t) => [{ ...body(`s${t}`), _id: t }, {}]),
      });
    }
    probes.push({
      label: 'POST /<A’s service> with _id',
      target: 'serviceRecord',
      call: rest(
        'POST',
        () => `/${world.ids.service}`,
        () => ({ x: 1, _id: world.ids.serviceRecord }),
      ),
    });
    await runPairedProbes(probes, [callers[0] as Who], world.ids, fakes, world.canary, figures);
  });

  test('accounts, organisations and admin routes give nothing away and take nothing', async () => {
    const { server, a, b, ids, canary } = world;
    const bcrypt = /\$2[aby]\$\d\d\$/;
    const look = async (who: string, token: string | undefined, method: string, path: string, body?: unknown) => {
      const answer = await server.request(method, path, {
        ...(token ? { token } : {}),
        ...(body === undefined ? {} : { body }),
      });
      figures.attempts += 1;
      const text = JSON.stringify(answer.body ?? '');
      if (answer.status >= 500)
        figures.add('5xx', `${who}: ${method} ${path} → ${answer.status} ${text.slice(0, 160)}`);
      if (bcrypt.test(text)) figures.add('leak', `${who}: ${method} ${path} → a password hash: ${text.slice(0, 160)}`);
      if (who !== 'admin' && text.includes(canary))
        figures.add('leak', `${who}: ${method} ${path} → ${text.slice(0, 200)}`);
      return answer;
    };
    for (const [who, token] of [
      ['B', b.token],
      ['admin', server.adminToken],
    ] as const) {
      for (const path of [
        '/users',
        '/users?$distinct=password',
        '/users?$select[]=password',
        '/users?$select[]=email&$select[]=password',
        `/users/${b.id}?$select[]=password`,
        '/users?password[$exists]=true&$limit=0',
        '/whoami',
        '/api-keys',
        '/api-keys?$select[]=token',
        '/api-keys?$distinct=token',
      ]) {
        await look(who, token, 'GET', path);
      }
    }
    const info = await look('B', b.token, 'GET', '/info');
    if (JSON.stringify(info.body).includes(ids.service as string)) {
      figures.add('leak', `B: GET /info lists A's private service ${ids.service}`);
    }
    const gc = await look('B', b.token, 'POST', '/blobs/gc', { graceSeconds: 0, dryRun: true });
    if (gc.status < 300) figures.add('wrongly accepted', `B: POST /blobs/gc → ${gc.status}`);
    const role = await look('B', b.token, 'PATCH', `/users/${b.id}`, { role: 'admin' });
    if ((await server.request('GET', '/whoami', { token: b.token })).body?.user?.role === 'admin') {
      figures.add('wrongly accepted', `B: PATCH /users/<own id> {role: admin} → ${role.status}, B is an admin`);
    }
    // Taking A's e-mail, in any case, must be refused.
    for (const email of [a.email, a.email.toUpperCase()]) {
      const taken = await look('B', b.token, 'PATCH', `/users/${b.id}`, { email });
      if (taken.status < 300)
        figures.add('wrongly accepted', `B: PATCH /users/<own id> {email: ${email}} → ${taken.status}`);
    }
    // Signing up (closed on this server) with A's e-mail, in another case, tells nothing and takes nothing.
    const password = 'x'.repeat(12);
    await runPairedProbes(
      [
        {
          label: 'POST /users with the e-mail',
          target: 'email',
          call: rest(
            'POST',
            () => '/users',
            (t) => ({ email: t.toUpperCase(), password }),
          ),
        },
      ],
      [callers[1] as Who],
      ids,
      {},
      canary,
      figures,
    );
    const signIn = await server.request('POST', '/authentication', {
      body: { strategy: 'local', email: a.email.toUpperCase(), password },
    });
    if (signIn.status < 300) figures.add('wrongly accepted', `anonymous: signed up as A's e-mail in upper case`);
    // An organisation admin cannot add B without his consent, nor learn whether an e-mail has an account.
    const org = (await server.request('GET', `/organizations/${ids.organization}`, { token: a.token })).body;
    const members = org.members ?? [];
    await runPairedProbes(
      [
        {
          label: 'A adds an e-mail to her organisation',
          target: 'email',
          call: rest(
            'PATCH',
            () => `/organizations/${ids.organization}`,
            (t) => ({
              members: [...members, { email: t, role: 'member' }],
            }),
          ),
        },
      ],
      [{ name: 'A', token: a.token }],
      { email: b.email },
      {},
      '\u0000no canary',
      figures,
    );
    const bAfter = (await server.request('GET', '/whoami', { token: b.token })).body?.user;
    if ((bAfter?.organizations ?? []).includes(ids.organization)) {
      figures.add(
        'wrongly accepted',
        `A: PATCH /organizations/<id> {members: [..., {email: B}]} made B a member without consent`,
      );
    }
  });

  test('A’s records and blobs read back unchanged after every probe', async () => {
    const after = await snapshotOf(world);
    for (const [key, value] of Object.entries(before)) {
      if (after[key] !== value)
        figures.add('data changed', `${key}: ${value.slice(0, 240)} → ${after[key]?.slice(0, 240)}`);
    }
    expect(Object.keys(after)).toEqual(Object.keys(before));
  });

  test('realtime events about A’s private records reach neither B nor anonymous sockets', async () => {
    const { server, a, b, ids, canary } = world;
    const token = a.token;
    const writes: [string, string, unknown][] = [
      ['PATCH', `/notes/${ids.note}`, { tag: canary }],
      ['POST', '/notes', { title: canary }],
      ['PATCH', `/runs/${ids.run}`, { description: canary }],
      [
        'POST',
        '/metrics',
        { run: ids.run, series: [{ type: 'train', name: 'loss', offset: 1, steps: [2], values: [0.4] }] },
      ],
      ['POST', '/run-logs', { run: ids.run, seq: 9, records: [{ time: 1, stream: 'stdout', text: canary }] }],
      [
        'POST',
        '/run-histograms',
        {
          run: ids.run,
          key: 'k',
          name: canary,
          step: 1,
          min: 0,
          max: 1,
          counts: [1],
          count: 1,
          sum: 0,
          sumSquares: 0,
          nonFinite: 0,
        },
      ],
      ['PATCH', `/models/${ids.model}`, { description: canary }],
      ['PATCH', `/assets/${ids.asset}`, { tags: [canary] }],
      ['PATCH', `/datasets/${ids.dataset}`, { description: canary }],
      ['PATCH', `/tfjs-models/${ids.tfjsModel}`, { description: canary }],
      ['PATCH', `/folders/${ids.folder}`, { description: canary }],
      ['PATCH', `/${ids.service}/${ids.serviceRecord}`, { secret: canary }],
      ['POST', `/${ids.service}`, { secret: canary }],
      ['PATCH', `/users/${a.id}`, { name: canary }],
      ['POST', '/api-keys', { name: canary }],
    ];
    for (const [method, path, body] of writes) {
      const answer = await server.request(method, path, { token, body });
      if (answer.status >= 500) figures.add('5xx', `A: ${method} ${path} → ${answer.status}`);
    }
    const removable = await server.request('POST', '/notes', { token, body: { title: canary } });
    await server.request('DELETE', `/notes/${removable.body._id}`, { token });
    // B's own write after all of A's: once B hears of it, every event about A's writes was sent.
    const barrier = await server.request('POST', '/notes', { token: b.token, body: { title: 'barrier' } });
    const bSocket = sockets.get('B') as SocketCaller;
    await bSocket.waitForEvent(
      (name, data) => name === 'notes created' && (data as { _id?: string })?._id === barrier.body._id,
    );
    // An answered call on the anonymous socket comes after every event sent to it before.
    const anonymous = sockets.get('anonymous') as SocketCaller;
    await anonymous.call('find', 'notes', {});
    const secrets = [canary, ...Object.values(ids).filter((value) => value.length >= 12)];
    for (const [who, caller] of [
      ['B', bSocket],
      ['anonymous', anonymous],
    ] as const) {
      for (const event of caller.events) {
        figures.attempts += 1;
        const text = JSON.stringify(event.data ?? '');
        const secret = secrets.find((value) => text.includes(value));
        if (secret)
          figures.add('leak', `${who}'s socket received '${event.name}' about A's ${secret}: ${text.slice(0, 200)}`);
      }
    }
    expect(bSocket.events.some((event) => event.name === 'notes created')).toBe(true);
  });

  test('the figures: all zero but attempts', async () => {
    await figures.report();
    expect((await world.server.request('GET', '/health')).status).toBe(200);
    expect(figures.attempts).toBeGreaterThan(1000);
    expect(figures.summary()).toMatchObject({ leaks: 0, '5xx': 0, wronglyAccepted: 0, dataChanged: 0 });
  });
});
