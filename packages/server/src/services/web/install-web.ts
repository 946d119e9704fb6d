/**
 * The dashboard (`packages/web`), served at `/` beside the API without shadowing it:
 * - files of the build: hashed bundles under `/_dashboard/` cached for a year, anything
 *   else (`/favicon.svg`) revalidated; pre-compressed twins when the client takes them;
 * - the page itself (`index.html`, never cached) at `/` and, for browser navigations, at any
 *   path the dashboard routes (`/runs/<id>`). A navigation is a GET that asks for HTML and
 *   carries no query string; API calls (JSON, a query, fetch's and curl's `*\/*`) go on to
 *   the services as before. `_dashboard` starts with `_`, which no service name can.
 */
import { createReadStream } from 'node:fs';
import type { Context, Next } from 'koa';
import type { FeatureContext } from '../../app/feature.js';
import {
  compressedTwin,
  type DashboardFile,
  dashboardFile,
  defaultDashboardRoot,
  HASHED_ASSETS_PREFIX,
  indexFile,
} from './dashboard-files.js';

const FOREVER = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

function isNavigation(ctx: Context): boolean {
  if (ctx.querystring !== '') return false;
  const accept = ctx.get('accept');
  if (accept.includes('application/json')) return false;
  if (ctx.path === '/') return true;
  return accept.includes('text/html') && !ctx.path.startsWith('/socket.io');
}

async function send(ctx: Context, file: DashboardFile, cacheControl: string): Promise<void> {
  const twin = await compressedTwin(file, ctx.get('accept-encoding'));
  const sent = twin?.file ?? file;
  ctx.type = file.extension;
  ctx.set('Cache-Control', cacheControl);
  ctx.set('Vary', 'Accept-Encoding');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.lastModified = sent.modified;
  if (ctx.fresh) {
    ctx.status = 304;
    return;
  }
  ctx.status = 200;
  if (twin) ctx.set('Content-Encoding', twin.encoding);
  ctx.length = sent.size;
  if (ctx.method === 'GET') ctx.body = createReadStream(sent.path);
}

/** The Koa route answering the dashboard's files and pages from `root`. */
export function dashboardRoute(root: string) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    const hashed = ctx.path.startsWith(HASHED_ASSETS_PREFIX);
    const lastSegment = ctx.path.slice(ctx.path.lastIndexOf('/') + 1);
    if (hashed || lastSegment.includes('.')) {
      const file = await dashboardFile(root, ctx.path);
      if (file) return send(ctx, file, hashed ? FOREVER : REVALIDATE);
      if (hashed) {
        ctx.status = 404;
        ctx.body = { name: 'NotFound', message: `No dashboard file ${ctx.path}`, code: 404, className: 'not-found' };
        return;
      }
      return next();
    }
    if (!isNavigation(ctx)) return next();
    const index = await indexFile(root);
    if (!index) return next();
    return send(ctx, index, REVALIDATE);
  };
}

export async function installWeb(context: FeatureContext): Promise<void> {
  const root = defaultDashboardRoot();
  if (!(await indexFile(root))) {
    context.log(
      `dashboard: not built (no index.html in ${root}); the API works, and \`npm run build\` builds the dashboard for /`,
    );
  }
  context.useRoute(dashboardRoute(root));
}
