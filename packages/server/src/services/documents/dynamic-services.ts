/**
 * Services created on first use: a request to `/<name>` for a name that is valid, not
 * reserved, and allowed by the optional whitelist registers a document service over the
 * collection `<name>`. The collection itself is only recorded when a record is created.
 */
import { isValidServiceName, LarderError, RESERVED_SERVICE_NAMES } from '@larder/protocol';
import type { FeathersApp } from '../../app/feathers-app.js';
import { ownershipPolicy } from '../../auth/access-policy.js';
import { type Actor, isAllPowerful } from '../../auth/actor.js';
import type { BlobStore } from '../../blobs/blob-store.js';
import type { DocumentStore } from '../../stores/document-store.js';
import { DocumentService, type PaginationOptions } from './document-service.js';

const MAX_DYNAMIC_SERVICES = 10_000;

export interface DynamicServicesOptions {
  store: DocumentStore;
  /** Documents hold the blobs they name (`{ sha256 }` fields). */
  blobs: BlobStore;
  authEnabled: boolean;
  /** When set, only these names may be dynamic services. */
  whitelist?: readonly string[] | undefined;
  paginate?: PaginationOptions;
}

/**
 * Names of properties every object has (`constructor`, `toString`, `hasOwnProperty`…) are
 * never services: Feathers and its transports keep services and routes in plain objects,
 * where such a name finds the inherited property (a service named `hasOwnProperty` would
 * break every lookup).
 */
function isObjectProperty(name: string): boolean {
  return name in Object.prototype;
}

function assertNotObjectProperty(name: string): void {
  if (isObjectProperty(name)) {
    throw new LarderError(
      'BadRequest',
      `"${name}" cannot be a service name (every JavaScript object has it); choose another`,
    );
  }
}

export class DynamicServices {
  private readonly registered = new Set<string>();
  private readonly whitelist: ReadonlySet<string> | undefined;

  constructor(
    private readonly app: FeathersApp,
    private readonly options: DynamicServicesOptions,
  ) {
    this.whitelist = options.whitelist ? new Set(options.whitelist) : undefined;
  }

  /** Registers services for the collections already stored, then hooks into path lookup. */
  async install(): Promise<void> {
    for (const name of await this.options.store.listCollections()) {
      // Collections of Larder's own services (runs, models…) already have theirs.
      if (
        !name.startsWith('_') &&
        this.allowed(name) &&
        !isObjectProperty(name) &&
        !Object.hasOwn(this.app.services, name)
      ) {
        this.register(name);
      }
    }
    // Feathers types lookup as never failing; at run time it answers null for unknown paths.
    const lookup = this.app.lookup.bind(this.app) as (path: string) => ReturnType<FeathersApp['lookup']> | null;
    const dynamicLookup = (path: string) => {
      const found = lookup(path);
      if (found) return found;
      const name =
        String(path ?? '')
          .replace(/^\/+/, '')
          .split('/')[0] ?? '';
      if (!isValidServiceName(name) || RESERVED_SERVICE_NAMES.has(name) || this.registered.has(name)) return null;
      assertNotObjectProperty(name);
      // A feature's own service (`/runs/a/b/c`): the path is not one of its routes.
      if (Object.hasOwn(this.app.services, name)) return null;
      if (!this.allowed(name))
        throw new LarderError('Forbidden', `The service "${name}" is not in this server's whitelist`);
      if (this.registered.size >= MAX_DYNAMIC_SERVICES) {
        throw new LarderError('Forbidden', `This server already has ${MAX_DYNAMIC_SERVICES} services`);
      }
      this.register(name);
      return lookup(path);
    };
    this.app.lookup = dynamicLookup as FeathersApp['lookup'];
    // `app.service(name)` (used when events arrive from other instances) creates too.
    this.app.defaultService = (location: string) => {
      const name = location.replace(/^\/+|\/+$/g, '');
      if (
        !isValidServiceName(name) ||
        RESERVED_SERVICE_NAMES.has(name) ||
        !this.allowed(name) ||
        isObjectProperty(name)
      ) {
        throw new LarderError('NotFound', `No service at ${name}`);
      }
      this.registered.add(name);
      return this.makeService(name);
    };
  }

  /** Names of the services that hold records. */
  async names(): Promise<string[]> {
    const stored = await this.options.store.listCollections();
    return stored.filter(
      (name) =>
        !name.startsWith('_') &&
        !isObjectProperty(name) &&
        (this.allowed(name) || Object.hasOwn(this.app.services, name)),
    );
  }

  /**
   * The names of the services where the actor may read at least one record: what `/info`
   * tells a caller, so nobody learns the names of other users' private services.
   */
  async namesReadableBy(actor: Actor): Promise<string[]> {
    const names = await this.names();
    if (isAllPowerful(actor)) return names;
    const readable: string[] = [];
    for (const name of names) {
      const policy = (this.app.services[name] as Partial<DocumentService> | undefined)?.policy;
      if (!policy) continue;
      const [record] = await this.options.store.find(name, { filter: policy.readFilter(actor), limit: 1 });
      if (record) readable.push(name);
    }
    return readable;
  }

  private allowed(name: string): boolean {
    return this.whitelist === undefined || this.whitelist.has(name);
  }

  private register(name: string): void {
    this.registered.add(name);
    this.app.use(name, this.makeService(name), { methods: ['find', 'get', 'create', 'update', 'patch', 'remove'] });
  }

  private makeService(name: string): DocumentService {
    return new DocumentService({
      store: this.options.store,
      collection: name,
      policy: ownershipPolicy,
      authEnabled: this.options.authEnabled,
      blobs: this.options.blobs,
      ...(this.options.paginate ? { paginate: this.options.paginate } : {}),
    });
  }
}
