import { serveStatic } from '@hono/node-server/serve-static';
import { type Context, type Env, Hono, type MiddlewareHandler, type Next, type Schema } from 'hono';

/**
 * Files whose name carries a content hash, as bundlers emit them (Vite: `assets/<name>-<hash>.<ext>`):
 * their content never changes under that name, so browsers may keep them for a year.
 */
export const HASHED_ASSET = /\/assets\/[^/]+-[A-Za-z0-9_-]{8,}\.[A-Za-z0-9]+$/;

/** Whether a URL path names a dotfile or a path through a dot-folder (`/.env`, `/.git/config`), decoded first. */
export function namesDotfile(path: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return true;
  }
  return /(?:^|[/\\])\./.test(decoded);
}

/** Variables the static layer shares with the API's middleware. */
type StaticEnv = { Variables: { cacheControl?: string } };

/**
 * The API app with the static files of `root` beside it (e.g. the built demo): files where no
 * API route matched, and `index.html` for other GET requests that accept HTML, so a single-page
 * app's deep links load. Dotfiles and dot-folders are never served (404). Hashed assets are
 * sent `Cache-Control: public, max-age=31536000, immutable`, other files `no-cache` (revalidated
 * on each use). Every unknown route, API or not, answers `notFound` (the API's JSON 404).
 */
export function withStaticFiles<E extends Env, S extends Schema, B extends string>(api: Hono<E, S, B>, root: string, notFound: (c: Context) => Response | Promise<Response>) {
  const cacheFor = (path: string, c: Context<StaticEnv>) => {
    c.set('cacheControl', HASHED_ASSET.test(path.replaceAll('\\', '/')) ? 'public, max-age=31536000, immutable' : 'no-cache');
  };
  const files = serveStatic({ root, onFound: cacheFor });
  const page = serveStatic({ root, path: 'index.html', onFound: cacheFor });
  const noDotfiles: MiddlewareHandler = async (c, next) => (namesDotfile(c.req.path) ? notFound(c) : next());
  const spaFallback = (c: Context, next: Next) => (c.req.header('accept')?.includes('text/html') ? page(c, next) : next());
  return new Hono<StaticEnv>().route('/', api).use('/*', noDotfiles).use('/*', files).get('/*', spaFallback).notFound(notFound);
}
