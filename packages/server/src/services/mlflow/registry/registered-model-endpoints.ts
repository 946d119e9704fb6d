/**
 * MLflow's registered-model endpoints (`model_registry.proto`) over Larder's `/models`:
 * create, get, rename, update, delete, search, tags, aliases and get-latest-versions. Writes
 * go through the models service with the caller's params, so ownership, unique names and
 * events apply as for every other client; names resolve relative to the caller
 * (`model-names.ts`).
 */
import { ownershipPolicy } from '../../../auth/access-policy.js';
import type { StoredDocument } from '../../../stores/document-store.js';
import type { EndpointTable, MlflowCall } from '../mlflow-endpoints.js';
import { MlflowError, toMlflowError } from '../mlflow-errors.js';
import { modelNamed, versionNumbered, versionsOf } from './model-names.js';
import type { RegistryContext } from './registry-context.js';
import { parseRegistryFilter } from './registry-filter.js';
import { latestPerStage, millis, modelVersionMessage, registeredModelMessage } from './registry-messages.js';
import {
  keyValues,
  maxResults,
  nextPageToken,
  optionalString,
  pageOffset,
  requiredString,
  stringList,
} from './request-fields.js';

const BY_NAME = (model: StoredDocument): string | number => String(model.name);
const ORDER_FIELDS: Record<string, (model: StoredDocument) => string | number> = {
  name: BY_NAME,
  timestamp: (model) => millis(model.updatedAt),
  last_updated_timestamp: (model) => millis(model.updatedAt),
  creation_timestamp: (model) => millis(model.createdAt),
};

export function registeredModelEndpoints(context: RegistryContext): EndpointTable {
  const { store } = context.feature;

  async function message(model: StoredDocument) {
    return { registered_model: registeredModelMessage(model, await versionsOf(store, model._id)) };
  }

  async function writable(call: MlflowCall): Promise<StoredDocument> {
    const model = await modelNamed(store, requiredString(call.request, 'name'), call.actor);
    await context.models.writableModel(model._id, call.actor);
    return model;
  }

  async function patch(call: MlflowCall, model: StoredDocument, data: Record<string, unknown>) {
    return (await context.models.patch(model._id, data, call.params)) as StoredDocument;
  }

  return {
    'POST /registered-models/create': async (call) => {
      const name = requiredString(call.request, 'name');
      const tags = keyValues(call.request, 'tags');
      try {
        const created = (await context.models.create(
          {
            name,
            description: optionalString(call.request, 'description') ?? '',
            mlflowTags: Object.fromEntries(tags.map((tag) => [tag.key, tag.value])),
          },
          call.params,
        )) as StoredDocument;
        return message(created);
      } catch (error) {
        const translated = toMlflowError(error);
        if (translated.errorCode === 'RESOURCE_ALREADY_EXISTS') {
          throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Registered Model (name=${name}) already exists.`);
        }
        throw error;
      }
    },
    'GET /registered-models/get': async (call) =>
      message(await modelNamed(store, requiredString(call.request, 'name'), call.actor)),
    'POST /registered-models/rename': async (call) => {
      const model = await writable(call);
      const newName = requiredString(call.request, 'new_name');
      try {
        return message(await patch(call, model, { name: newName }));
      } catch (error) {
        if (toMlflowError(error).errorCode === 'RESOURCE_ALREADY_EXISTS') {
          throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Registered Model (name=${newName}) already exists.`);
        }
        throw error;
      }
    },
    'PATCH /registered-models/update': async (call) => {
      const model = await writable(call);
      const description = optionalString(call.request, 'description');
      return message(description === undefined ? model : await patch(call, model, { description }));
    },
    'DELETE /registered-models/delete': async (call) => {
      const model = await writable(call);
      await context.models.remove(model._id, call.params);
      return {};
    },
    'GET /registered-models/search': (call) => search(call),
    'POST /registered-models/search': (call) => search(call),
    'POST /registered-models/get-latest-versions': (call) => latest(call),
    'GET /registered-models/get-latest-versions': (call) => latest(call),
    'POST /registered-models/set-tag': async (call) => {
      const model = await writable(call);
      const key = requiredString(call.request, 'key');
      const value = call.request.value === undefined || call.request.value === null ? '' : String(call.request.value);
      await patch(call, model, { mlflowTags: { ...(model.mlflowTags as Record<string, string>), [key]: value } });
      return {};
    },
    'DELETE /registered-models/delete-tag': async (call) => {
      const model = await writable(call);
      const key = requiredString(call.request, 'key');
      const tags = { ...(model.mlflowTags as Record<string, string>) };
      delete tags[key];
      await patch(call, model, { mlflowTags: tags });
      return {};
    },
    'POST /registered-models/alias': async (call) => {
      const model = await writable(call);
      const alias = aliasOf(call);
      const version = await versionNumbered(store, model, requiredString(call.request, 'version'));
      await patch(call, model, { [`aliases.${alias}`]: Number(version.version) });
      return {};
    },
    'DELETE /registered-models/alias': async (call) => {
      const model = await writable(call);
      const alias = aliasOf(call);
      await patch(call, model, { [`aliases.${alias}`]: null });
      return {};
    },
    'GET /registered-models/alias': async (call) => {
      const model = await modelNamed(store, requiredString(call.request, 'name'), call.actor);
      const alias = aliasOf(call);
      const number = ((model.aliases ?? {}) as Record<string, number>)[alias];
      if (number === undefined) {
        throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Registered model alias ${alias} not found.`);
      }
      const version = await versionNumbered(store, model, String(number));
      return { model_version: modelVersionMessage(model, version) };
    },
  };

  async function latest(call: MlflowCall) {
    const model = await modelNamed(store, requiredString(call.request, 'name'), call.actor);
    const stages = stringList(call.request, 'stages');
    const versions = await versionsOf(store, model._id);
    const chosen = stages.length > 0 ? latestPerStage(versions, stages) : latestPerStage(versions);
    return { model_versions: chosen.map((version) => modelVersionMessage(model, version)) };
  }

  async function search(call: MlflowCall) {
    const matches = parseRegistryFilter(optionalString(call.request, 'filter'), ['name']);
    const limit = maxResults(call.request, 100, 1000);
    const offset = pageOffset(call.request);
    const order = orderOf(stringList(call.request, 'order_by'));
    const readable = await store.find('models', { filter: ownershipPolicy.readFilter(call.actor) });
    const found = readable.filter((model) =>
      matches({ attributes: { name: String(model.name) }, tags: (model.mlflowTags ?? {}) as Record<string, string> }),
    );
    found.sort(order);
    const page = found.slice(offset, offset + limit);
    const token = nextPageToken(offset, page.length, found.length);
    const messages = [];
    for (const model of page) messages.push((await message(model)).registered_model);
    return { registered_models: messages, ...(token ? { next_page_token: token } : {}) };
  }
}

function aliasOf(call: MlflowCall): string {
  const alias = requiredString(call.request, 'alias');
  if (alias.toLowerCase() === 'latest') {
    throw new MlflowError('INVALID_PARAMETER_VALUE', "'latest' alias name (case insensitive) is reserved.");
  }
  return alias;
}

function orderOf(clauses: readonly string[]): (a: StoredDocument, b: StoredDocument) => number {
  const keys = clauses.map((clause) => {
    const match = /^\s*(\S+)(?:\s+(ASC|DESC))?\s*$/i.exec(clause);
    const read = match ? ORDER_FIELDS[match[1] ?? ''] : undefined;
    if (!match || !read) {
      throw new MlflowError('INVALID_PARAMETER_VALUE', `Invalid order_by clause '${clause.slice(0, 80)}'`);
    }
    return { read, direction: match[2]?.toUpperCase() === 'DESC' ? -1 : 1 };
  });
  if (!keys.some((key) => key.read === BY_NAME)) keys.push({ read: BY_NAME, direction: 1 });
  return (a, b) => {
    for (const key of keys) {
      const left = key.read(a);
      const right = key.read(b);
      if (left < right) return -key.direction;
      if (left > right) return key.direction;
    }
    return 0;
  };
}
