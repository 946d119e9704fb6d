/**
 * Feathers' router keeps each node's children in a plain object, so a path segment named
 * like a property of every object (`/things/constructor`, `/toString`) finds a function
 * instead of a route node and throws (over socket.io that error went back with its stack
 * trace). Here the children become null-prototype maps, now and after every insert.
 */
import type { FeathersApp } from '../app/feathers-app.js';

interface RouteNode {
  children: Record<string, RouteNode>;
  placeholders: RouteNode[];
}

interface Router {
  root: RouteNode;
  insert(path: string, data: unknown): unknown;
}

function nullPrototypeChildren(node: RouteNode): void {
  if (Object.getPrototypeOf(node.children) !== null) Object.setPrototypeOf(node.children, null);
  for (const child of Object.values(node.children)) nullPrototypeChildren(child);
  for (const placeholder of node.placeholders) nullPrototypeChildren(placeholder);
}

export function safeRouteLookup(app: FeathersApp): void {
  const router = (app as unknown as { routes?: Router }).routes;
  if (router) {
    nullPrototypeChildren(router.root);
    const insert = router.insert.bind(router);
    router.insert = (path, data) => {
      const inserted = insert(path, data);
      nullPrototypeChildren(router.root);
      return inserted;
    };
  }
}
