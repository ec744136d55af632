import type { IncomingMessage } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import { HttpError } from './errors.ts';
import type { Logger } from './log.ts';

/** Who sent a request and which address of this server it named, as far as the server can trust it. */
export interface RequestPeer {
  /** The client's network address; null when unknown (no socket, e.g. `app.request` in tests). */
  address: string | null;
  /** The origin the client addressed, e.g. `https://shop.example` behind a TLS proxy. */
  origin: string;
  /** True when the client used https (directly, or through a trusted proxy that says so). */
  secure: boolean;
  /** The host name the client addressed, without the port, lower case (IPv6 in brackets). */
  host: string;
}

/** The node:http request under `@hono/node-server`, when there is one. */
const socketAddress = (env: unknown): string | null => {
  const incoming = (env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? null;
};

/** The comma-separated values of a forwarding header. */
const listOf = (header: string | undefined) =>
  (header ?? '')
    .split(',')
    .map((value) => value.trim())
    .filter(Boolean);

/**
 * The value set by the outermost trusted proxy: with `hops` proxies in front of the server,
 * the `hops`-th value from the right (earlier ones were written by the client and are not trusted).
 * A proxy that overwrites rather than appends leaves a single value: then that one.
 */
const trustedValue = (values: string[], hops: number): string | undefined => values[values.length - hops] ?? values[0];

/** `host[:port]` split into a lower-case host name (brackets kept for IPv6) and the rest. */
export function hostNameOf(hostHeader: string): string {
  const host = hostHeader.trim().toLowerCase();
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.indexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}

/**
 * Sets `peer` on each request. With `trustProxy` = 0 (the default) the socket's address and
 * the request's own URL are used, and `X-Forwarded-*` headers are ignored (a client could write
 * them). With `trustProxy` = n, n proxies stand in front of the server and their
 * `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host` are believed. Without a
 * trusted proxy, the first request carrying `X-Forwarded-For` logs a warning once: every
 * client then looks like the proxy to the per-address limits.
 */
export function requestPeer(options: { trustProxy: number; logger: Logger }): MiddlewareHandler<{ Variables: { peer: RequestPeer } }> {
  const hops = options.trustProxy;
  let warned = false;
  const addressed = memo((prefix: string) => {
    const url = new URL(prefix);
    return { protocol: url.protocol.slice(0, -1), host: url.host };
  });
  const peerOf = memo((key: string): Omit<RequestPeer, 'address'> | null => {
    const secure = key.startsWith('https ');
    const host = key.slice(key.indexOf(' ') + 1);
    try {
      return { origin: new URL(`${secure ? 'https' : 'http'}://${host}`).origin, secure, host: hostNameOf(host) };
    } catch {
      return null;
    }
  });
  return async (c, next) => {
    const url = c.req.url;
    const pathAt = url.indexOf('/', url.indexOf('://') + 3);
    let { protocol, host } = addressed(pathAt < 0 ? url : url.slice(0, pathAt));
    let address = socketAddress(c.env);
    if (hops > 0) {
      address = trustedValue(listOf(c.req.header('x-forwarded-for')), hops) ?? address;
      protocol = trustedValue(listOf(c.req.header('x-forwarded-proto')), hops)?.toLowerCase() ?? protocol;
      host = trustedValue(listOf(c.req.header('x-forwarded-host')), hops) ?? host;
    } else if (!warned && c.req.header('x-forwarded-for') !== undefined) {
      warned = true;
      options.logger({
        level: 'warn',
        msg: 'requests carry X-Forwarded-For but no proxy is trusted: every client behind the proxy shares its per-address limits; set --trust-proxy (trustProxy) to the number of proxies in front of the server',
      });
    }
    const peer = peerOf(`${protocol === 'https' ? 'https' : 'http'} ${host}`);
    if (!peer) throw new HttpError(400, 'invalid-host', `"${host.slice(0, 100)}" is not a host name. Send the server's host name in the Host header.`);
    c.set('peer', { address, ...peer });
    return next();
  };
}

/** How many distinct hosts `requestPeer` remembers parsed (the Host header is the client's to choose). */
const REMEMBERED_HOSTS = 1000;

/** `compute` remembered for the last `REMEMBERED_HOSTS` keys: a server answers few host names, parsed once each. */
function memo<T>(compute: (key: string) => T): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    if (cache.has(key)) return cache.get(key) as T;
    const value = compute(key);
    if (cache.size >= REMEMBERED_HOSTS) cache.delete(cache.keys().next().value as string);
    cache.set(key, value);
    return value;
  };
}

/** Host names the server answers when it listens on `hostname` and no list is given: the loopback names on loopback, else any (null). */
export function defaultAllowedHosts(hostname: string): string[] | null {
  const loopback = hostname === 'localhost' || hostname === '::1' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
  return loopback ? ['localhost', '.localhost', '127.0.0.1', '[::1]'] : null;
}

/** Whether `host` (a name from `hostNameOf`) matches an allowed-hosts entry: exact, `.example.com` for the domain and its subdomains, or `*`. */
function hostAllowed(host: string, allowed: readonly string[]): boolean {
  return allowed.some((entry) => {
    const pattern = entry.toLowerCase();
    if (pattern === '*' || pattern === host) return true;
    return pattern.startsWith('.') && (host === pattern.slice(1) || host.endsWith(pattern));
  });
}

/**
 * DNS-rebinding defence: a request naming a host (`Host`, or `X-Forwarded-Host` from a trusted
 * proxy) that is not in `allowedHosts` is refused with 403 `host-not-allowed`. A page on
 * `http://attacker.example` that re-points its name at 127.0.0.1 still sends
 * `Host: attacker.example`. Null allows every host.
 */
export function hostCheck(allowedHosts: readonly string[] | null): MiddlewareHandler<{ Variables: { peer: RequestPeer } }> {
  return async (c, next) => {
    const { host } = c.get('peer');
    if (allowedHosts !== null && !hostAllowed(host, allowedHosts)) {
      throw new HttpError(
        403,
        'host-not-allowed',
        `This server does not answer to the host name "${host.slice(0, 100)}". Reach it by one of its names, or add this one with --allowed-host (allowedHosts).`,
      );
    }
    return next();
  };
}
