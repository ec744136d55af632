import type { Context, MiddlewareHandler, TypedResponse } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { JSONParsed } from 'hono/utils/types';

/** Headers every answer to a request carries, as a plain object of lower-case names (`AppEnv`'s `answerHeaders`). */
export type AnswerHeaders = Record<string, string>;

/**
 * The security headers of every answer: those of Hono's `secureHeaders` with
 * `Cross-Origin-Resource-Policy: same-site`, computed once.
 */
const SECURITY_HEADERS: Readonly<AnswerHeaders> = Object.freeze({
  'cross-origin-resource-policy': 'same-site',
  'cross-origin-opener-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=15552000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
});

/** Headers that may be sent more than once: added beside a route's own rather than replacing them. */
const LISTED = new Set(['vary', 'set-cookie']);

/** The answers `jsonAnswer` built with every gathered header already in. */
const complete = new WeakSet<Response>();

type AnswerEnv = { Variables: { answerHeaders: AnswerHeaders; cacheControl?: string } };

/**
 * The first middleware of the app: starts each request's `answerHeaders` with the security
 * headers; the middleware behind it add theirs (request id, CORS, a new session cookie) to that
 * plain object instead of to the answer. Once the answer is made, the gathered headers and
 * `Cache-Control` (`no-store` unless a layer set `cacheControl`: task records are private to their
 * session) are put on it, unless `jsonAnswer` built it with them: then no web `Headers` is made
 * on the way to the socket.
 */
export function answerHeaders(): MiddlewareHandler<AnswerEnv> {
  return async (c, next) => {
    const gathered: AnswerHeaders = { ...SECURITY_HEADERS };
    c.set('answerHeaders', gathered);
    await next();
    if (complete.has(c.res)) return;
    // On the answer's own headers: `c.header` now would copy the answer into a new web Response.
    const headers = c.res.headers;
    for (const name in gathered) {
      if (LISTED.has(name)) headers.append(name, gathered[name]!);
      else headers.set(name, gathered[name]!);
    }
    headers.set('cache-control', c.get('cacheControl') ?? 'no-store');
    headers.delete('x-powered-by');
  };
}

/**
 * A JSON answer of `text` (already JSON) with `headers` and every header gathered for the request
 * (`answerHeaders`), as one plain object: typed like `c.json` for the typed client. Headers set
 * with `c.header` before it are not included: middleware add theirs to `answerHeaders`. Behind no
 * `answerHeaders` (the routes mounted in another app), a plain `c.body`.
 */
export function jsonAnswer<T, S extends ContentfulStatusCode>(
  c: Context,
  text: string,
  status: S,
  headers: AnswerHeaders = {},
): Response & TypedResponse<JSONParsed<T>, S, 'json'> {
  const gathered = c.get('answerHeaders') as AnswerHeaders | undefined;
  let answer: Response;
  if (gathered === undefined) answer = c.body(text, status, { 'content-type': 'application/json', ...headers });
  else {
    const cacheControl = (c.get('cacheControl') as string | undefined) ?? 'no-store';
    answer = new Response(text, { status, headers: { 'content-type': 'application/json', ...headers, ...gathered, 'cache-control': cacheControl } });
    complete.add(answer);
  }
  return answer as unknown as Response & TypedResponse<JSONParsed<T>, S, 'json'>;
}
