import type { MiddlewareHandler } from 'hono';
import type { AnswerHeaders } from './answer-headers.ts';
import { HttpError } from './errors.ts';

/** Request headers the browser clients send (the remote store, the sync client, a bearer token); a preflight naming others gets those too. */
const ALLOWED_HEADERS = 'Accept, Authorization, Content-Type, If-Match, Idempotency-Key, Last-Event-ID, Wayflow-Binder';
/** Response headers a page on another origin may read. */
const EXPOSED_HEADERS = 'ETag, Retry-After, X-Request-Id';
const ALLOWED_METHODS = 'GET, HEAD, PUT, POST, DELETE';

/** An origin as browsers send it: no trailing slash. */
export const normalizeOrigin = (origin: string) => origin.replace(/\/+$/, '');

/**
 * CORS with credentials for the listed origins (`allowedOrigins`, `--origin`): a page served
 * from one of them may call the API with the session cookie (`credentials: 'include'`) and read
 * the answers. Preflights (`OPTIONS` with `Access-Control-Request-Method`) from a listed origin
 * get 204 with the methods and headers the API uses; from any other origin a 403 that says
 * which flag to set. Requests of unlisted origins get no CORS headers, so the browser keeps
 * their answers from the page.
 */
export function corsForOrigins(allowedOrigins: readonly string[]): MiddlewareHandler<{ Variables: { answerHeaders: AnswerHeaders } }> {
  const allowed = new Set(allowedOrigins.map(normalizeOrigin));
  return async (c, next) => {
    const origin = c.req.header('origin');
    const listed = origin !== undefined && allowed.has(origin);
    if (c.req.method === 'OPTIONS' && c.req.header('access-control-request-method') !== undefined) {
      if (!listed) {
        throw new HttpError(
          403,
          'bad-origin',
          `Cross-origin requests from ${origin ? `"${origin.slice(0, 100)}"` : 'a page without an Origin'} are not allowed. List the page's origin with --origin (allowedOrigins), or serve the page from this server.`,
        );
      }
      const headers = new Headers({
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Credentials': 'true',
        'Access-Control-Allow-Methods': ALLOWED_METHODS,
        // A listed origin is trusted with the cookie already: it may send the extra headers it asks for (`remoteStore({ headers })`).
        'Access-Control-Allow-Headers': c.req.header('access-control-request-headers') ? `${ALLOWED_HEADERS}, ${c.req.header('access-control-request-headers')}` : ALLOWED_HEADERS,
        'Access-Control-Max-Age': '600',
        Vary: 'Origin, Access-Control-Request-Headers',
      });
      // Chrome's Private Network Access: a page on a public address may call a server on a private one only if it agrees.
      if (c.req.header('access-control-request-private-network') === 'true') headers.set('Access-Control-Allow-Private-Network', 'true');
      return new Response(null, { status: 204, headers });
    }
    // Into the headers of the answer, whatever it is (`answerHeaders` puts them on it).
    const gathered = c.get('answerHeaders');
    if (allowed.size > 0) gathered.vary = 'Origin';
    if (listed) {
      gathered['access-control-allow-origin'] = origin;
      gathered['access-control-allow-credentials'] = 'true';
      gathered['access-control-expose-headers'] = EXPOSED_HEADERS;
    }
    return next();
  };
}
