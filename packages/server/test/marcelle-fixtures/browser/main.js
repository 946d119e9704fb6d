// Drives Marcelle's released browser client against the backend named in the query string:
// socket.io 2 with `init`, sign-in, CRUD with every event, tfjs model save and load.
import { dataStore, mlpClassifier } from '@marcellejs/core';
// The tfjs instance Marcelle itself uses (one copy in node_modules); the CPU backend keeps
// headless runs deterministic.
import { ready, setBackend } from '@tensorflow/tfjs-core';

const params = new URLSearchParams(location.search);

async function run() {
  const result = {};
  const store = dataStore(params.get('backend'));
  try {
    await store.connect();
  } catch {
    // With auth on, connect() fails until someone signs in.
  }
  result.requiresAuth = store.requiresAuth;
  const user = await store.login(params.get('email'), params.get('password'));
  result.user = user.email;

  const things = store.service('things');
  const events = [];
  for (const event of ['created', 'updated', 'patched', 'removed']) {
    things.on(event, (record) => events.push(`${event}:${record.name}:${record.n}`));
  }
  const created = await things.create({ name: 'a', n: 1 });
  await things.update(created.id, { name: 'a', n: 2 });
  await things.patch(created.id, { n: 3 });
  const found = await things.find({ query: { n: { $gte: 3 }, $sort: { createdAt: -1 } } });
  result.found = found.data.map((record) => ({ name: record.name, n: record.n, hasId: typeof record.id === 'string' }));
  await things.remove(created.id);
  await things.find({});
  result.events = events;

  await setBackend('cpu');
  await ready();
  const classifier = mlpClassifier({ layers: [4] });
  classifier.buildModel([3], [2]);
  classifier.labels = ['left', 'right'];
  const id = await classifier.save(store, 'browser-mlp', { origin: 'browser' });
  result.savedId = id;
  const loaded = mlpClassifier({ layers: [4] });
  const stored = await loaded.load(store, id);
  result.storedName = stored.name;
  result.loadedLabels = loaded.labels;
  const input = [0.1, 0.2, 0.3];
  result.before = (await classifier.predict(input)).confidences;
  result.after = (await loaded.predict(input)).confidences;
  // By name, as Marcelle loads models too.
  const byName = mlpClassifier({ layers: [4] });
  await byName.load(store, 'browser-mlp');
  result.byName = (await byName.predict(input)).confidences;
  return result;
}

run().then(
  (result) => {
    document.getElementById('status').textContent = 'done';
    document.getElementById('result').textContent = JSON.stringify(result, null, 2);
    window.marcelleResult = result;
  },
  (error) => {
    document.getElementById('status').textContent = 'failed';
    document.getElementById('result').textContent = String(error?.stack ?? error);
    window.marcelleError = String(error?.stack ?? error);
  },
);
