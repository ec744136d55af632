import type { MiddlewareHandler } from 'hono';
import { HttpError } from './errors.ts';
import type { RequestPeer } from './proxy.ts';
import type { Caller } from './session.ts';

/** A token bucket: `perSecond` on average, bursts of up to `burst` (fractions allowed, e.g. 1/60 for one a minute). */
export interface Rate {
  perSecond: number;
  burst: number;
}

/**
 * Every bound the server keeps, in one typed object (`AppOptions.limits`; `wayflow serve`
 * sets each with the flag named in docs/server.md, "Limits and deployment").
 * A caller is a session or a signed-in user; a client is a network address (with
 * `trustProxy`, the address the proxy names). Counters live in the process's memory,
 * except the stored-task and started-instance caps, which the database counts.
 */
export interface ServerLimits {
  /** Largest request body in bytes. */
  bodyBytes: number;
  /** Deepest nesting of objects and arrays in a JSON body. */
  jsonDepth: number;
  /** Requests to the API per client address, whatever their session. */
  clientRate: Rate;
  /** New sessions (cookies issued) per client address: dropping the cookie does not reset a caller's caps for free. */
  sessionRate: Rate;
  /** Reads (GET, HEAD) per caller. */
  readRate: Rate;
  /** Writes (POST, PUT, PATCH, DELETE) per caller. */
  writeRate: Rate;
  /** Live tasks a caller may store at once. */
  tasksPerCaller: number;
  /** Unfinished automation instances a caller may have started from the browser at once. */
  instancesPerCaller: number;
  /** Open automation event streams in total. */
  streams: number;
  /** Open automation event streams per client address. */
  streamsPerClient: number;
  /** Open automation event streams per caller. */
  streamsPerCaller: number;
}

/** The defaults of `ServerLimits`. */
export const limitDefaults: ServerLimits = {
  bodyBytes: 1024 * 1024,
  jsonDepth: 64,
  clientRate: { perSecond: 100, burst: 300 },
  sessionRate: { perSecond: 1, burst: 60 },
  readRate: { perSecond: 50, burst: 150 },
  writeRate: { perSecond: 20, burst: 60 },
  tasksPerCaller: 1000,
  instancesPerCaller: 100,
  streams: 1000,
  streamsPerClient: 32,
  streamsPerCaller: 4,
};

/** `limits` filled in with the defaults. */
export function resolveLimits(limits: Partial<ServerLimits> = {}): ServerLimits {
  return { ...limitDefaults, ...limits };
}

/**
 * A refusal because a limit was reached: `429` with a `Retry-After` header of
 * `retryAfterSeconds` (set by the app's error handler, `errorResponse`, whichever middleware or route threw it).
 */
export class TooManyRequestsError extends HttpError {
  override readonly name: string = 'TooManyRequestsError';
  /** Seconds after which a retry may succeed. */
  readonly retryAfterSeconds: number;
  constructor(code: string, message: string, retryAfterSeconds: number, details: Record<string, unknown> = {}) {
    super(429, code, message, details);
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}

/**
 * Token buckets by key, in memory. At most `maxKeys` buckets are kept; the least recently
 * used are forgotten first (a forgotten bucket comes back full, so memory stays bounded
 * whatever the number of keys an attacker makes up).
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly rate: Rate,
    private readonly clock: () => number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Takes one token for `key`: null when taken, else the seconds until one is available. */
  take(key: string): number | null {
    const now = this.clock();
    const bucket = this.buckets.get(key) ?? { tokens: this.rate.burst, at: now };
    bucket.tokens = Math.min(this.rate.burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * this.rate.perSecond);
    bucket.at = now;
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    if (bucket.tokens < 1) return (1 - bucket.tokens) / this.rate.perSecond;
    bucket.tokens -= 1;
    return null;
  }
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const describeRate = (rate: Rate) => (rate.perSecond >= 1 ? `${rate.perSecond} per second` : `${Math.round(rate.perSecond * 60 * 100) / 100} per minute`);

/** Bounds the requests of each client address (`peer.address`); a request whose address is unknown (no socket, no trusted proxy) is not counted. */
export function clientRateLimit(rate: Rate, clock: () => number): MiddlewareHandler<{ Variables: { peer: RequestPeer } }> {
  const buckets = new TokenBuckets(rate, clock);
  return async (c, next) => {
    const address = c.get('peer').address;
    const wait = address === null ? null : buckets.take(address);
    if (wait !== null) {
      throw new TooManyRequestsError('rate-limited', `Too many requests from this address: at most ${describeRate(rate)}. Retry after ${Math.ceil(wait)} s.`, wait);
    }
    return next();
  };
}

/**
 * Bounds the sessions a client address may be issued: give it to the session binder as
 * `admitNewSession`. Past the rate a request without a valid session cookie is refused with
 * 429 (and no cookie), so a client cannot reset its per-caller caps at will by dropping the cookie.
 */
export function sessionRateLimit(rate: Rate, clock: () => number): (peer: RequestPeer) => void {
  const buckets = new TokenBuckets(rate, clock);
  return ({ address }) => {
    const wait = address === null ? null : buckets.take(address);
    if (wait !== null) {
      throw new TooManyRequestsError(
        'too-many-sessions',
        `Too many new sessions from this address: at most ${describeRate(rate)}. Keep the session cookie (send requests with credentials) and retry after ${Math.ceil(wait)} s.`,
        wait,
      );
    }
  };
}

/** Bounds reads (GET, HEAD, OPTIONS) and writes (the other methods) per caller, each with its own rate. */
export function callerRateLimit(rates: { read: Rate; write: Rate }, clock: () => number): MiddlewareHandler<{ Variables: { caller: Caller } }> {
  const reads = new TokenBuckets(rates.read, clock);
  const writes = new TokenBuckets(rates.write, clock);
  return async (c, next) => {
    const write = WRITES.has(c.req.method);
    const wait = (write ? writes : reads).take(c.get('caller').owner);
    if (wait !== null) {
      const rate = write ? rates.write : rates.read;
      throw new TooManyRequestsError(
        'rate-limited',
        `Too many ${write ? 'writes' : 'reads'} from this session or user: at most ${describeRate(rate)}. Retry after ${Math.ceil(wait)} s.`,
        wait,
      );
    }
    return next();
  };
}
