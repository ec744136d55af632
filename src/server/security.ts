import type { MiddlewareHandler } from 'hono';
import { HttpError } from './errors.ts';
import type { RequestPeer } from './proxy.ts';
import { isJsonContentType } from './schemas.ts';
import type { Caller } from './session.ts';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * CSRF defence for cookie-authenticated writes: the `Origin` header must be the
 * server's own origin (as the client addressed it: behind a trusted proxy, its
 * `X-Forwarded-Proto` and `X-Forwarded-Host`) or one of `allowedOrigins`. A write
 * without `Origin` is refused too (browsers always send it on writes; other clients can set it).
 */
export function originCheck(allowedOrigins: readonly string[]): MiddlewareHandler<{ Variables: { caller: Caller; peer: RequestPeer } }> {
  const allowed = new Set(allowedOrigins.map((origin) => origin.replace(/\/+$/, '')));
  return async (c, next) => {
    if (!WRITES.has(c.req.method) || !c.get('caller').cookieAuthenticated) return next();
    const origin = c.req.header('origin');
    if (!origin || (origin !== c.get('peer').origin && !allowed.has(origin))) {
      throw new HttpError(
        403,
        'bad-origin',
        `Writes need an Origin header naming this server or one of its allowed origins; got ${origin ? `"${origin.slice(0, 100)}"` : 'none'}. Add the page's origin to allowedOrigins (--origin), or behind a TLS proxy set trustProxy (--trust-proxy).`,
      );
    }
    return next();
  };
}

/** How much of an oversized body is read and dropped before the 413, so the client reads the answer instead of a reset connection. */
const DISCARD = { bytes: 64 * 1024 * 1024, ms: 5000 };

/** Reads and drops the rest of a body, within `DISCARD`; true when it was read to its end. */
async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), DISCARD.ms);
  });
  let read = 0;
  try {
    for (;;) {
      const chunk = await Promise.race([reader.read(), timeout]);
      if (chunk === 'timeout') return false;
      if (chunk.done) return true;
      read += chunk.value.length;
      if (read > DISCARD.bytes) return false;
    }
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Request bodies larger than `maxBytes` are refused with 413 `body-too-large`, judged by
 * `Content-Length` or, without one, while the body streams in (at most `maxBytes` are kept).
 * The rest of an oversized body is read and dropped first (up to 64 MiB or 5 s), so a client
 * on a keep-alive connection reads the 413 rather than a connection reset; past that bound
 * the answer says `Connection: close`.
 */
export function requestBodyLimit(maxBytes: number): MiddlewareHandler {
  const tooLarge = () => new HttpError(413, 'body-too-large', `The request body is larger than ${maxBytes} bytes. Keep task data smaller, or raise the body limit (--body-limit).`);
  return async (c, next) => {
    // Judged from the headers while they suffice: reading `raw.body` turns node-server's light request into a web Request.
    if (!mayHaveBody(c.req.method)) return next();
    const length = c.req.header('content-length');
    const sized = length !== undefined && c.req.header('transfer-encoding') === undefined;
    if (sized && Number(length) <= maxBytes) return next();
    const body = c.req.raw.body;
    if (!body) return next();
    if (sized) {
      if (!(await discardRest(body.getReader()))) c.header('Connection', 'close');
      throw tooLarge();
    }
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxBytes) {
        if (!(await discardRest(reader))) c.header('Connection', 'close');
        throw tooLarge();
      }
      chunks.push(value);
    }
    c.req.raw = new Request(c.req.raw, { body: Buffer.concat(chunks, size) });
    return next();
  };
}

/** Whether a request of this method may carry a body the server reads (GET and HEAD bodies are ignored). */
const mayHaveBody = (method: string) => method !== 'GET' && method !== 'HEAD';

/** Whether `text` (JSON) nests objects and arrays deeper than `maxDepth`; a scan without recursion, strings skipped. */
export function jsonDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) {
      // On to the string's closing quote: the next quote not escaped, i.e. not after an odd run of backslashes.
      for (;;) {
        i = text.indexOf('"', i + 1);
        if (i < 0) return false;
        let backslashes = 0;
        while (text.charCodeAt(i - 1 - backslashes) === 0x5c) backslashes++;
        if (backslashes % 2 === 0) break;
      }
    } else if (code === 0x7b || code === 0x5b) {
      if (++depth > maxDepth) return true;
    } else if (code === 0x7d || code === 0x5d) depth--;
  }
  return false;
}

/**
 * Refuses JSON bodies nested deeper than `maxDepth` with 400 `json-too-deep`, before any
 * route parses them: task records and message payloads alike (deep nesting would overflow
 * the stack of the code that walks the value).
 */
export function jsonDepthLimit(maxDepth: number): MiddlewareHandler {
  return async (c, next) => {
    if (!mayHaveBody(c.req.method) || !isJsonContentType(c.req.header('content-type'))) return next();
    if (jsonDeeperThan(await c.req.text(), maxDepth)) {
      throw new HttpError(400, 'json-too-deep', `The request body nests objects or arrays more than ${maxDepth} levels deep. Flatten the data.`);
    }
    return next();
  };
}
