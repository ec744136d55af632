import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { generateCookie, getCookie } from 'hono/cookie';
import type { Actor } from '../automations/index.ts';
import type { AnswerHeaders } from './answer-headers.ts';
import { WayflowError } from '../core/index.ts';
import type { RequestPeer } from './proxy.ts';

/** A user an `authenticate` hook recognised, and how the request proved it. */
export interface AuthenticatedUser {
  /** Stable user id; tasks are bound to it across sessions and devices. */
  id: string;
  /**
   * `cookie` when the proof rides on an ambient cookie (then writes get the CSRF
   * origin check), `header` when it is an explicit header such as a bearer token.
   */
  credentials: 'cookie' | 'header';
  /** Groups the user belongs to (form assignments of server automations check them). */
  groups?: string[];
  /** Permission codenames the user holds (form assignments; `automations.view` opens the sync dashboard). */
  permissions?: string[];
  /** Superusers may process every form and see every automation instance. */
  superuser?: boolean;
}

/** Recognises the user of a request, or returns null to fall back to the session cookie. */
export type Authenticate = (request: Request) => AuthenticatedUser | null | Promise<AuthenticatedUser | null>;

/** Who the server bound a request to. */
export interface Caller {
  /** The storage scope: `user:<id>` or `session:<hash of the session id>`. */
  owner: string;
  /** True when an ambient cookie identifies the caller: writes must then pass the origin check. */
  cookieAuthenticated: boolean;
  /**
   * The caller as automation form checks see it: an authenticated user's id, groups,
   * permissions and superuser flag; for a session caller `{ id: owner }` with nothing else.
   */
  actor: Actor;
}

/** Settings of the session cookie. */
export interface SessionOptions {
  /** Cookie name (default `wayflow_session`). */
  cookieName?: string;
  /** `Secure` attribute: true, false, or `auto` (only on https requests, as a trusted proxy reports them too; the default). */
  secure?: boolean | 'auto';
  /** `SameSite` attribute (default `Lax`). */
  sameSite?: 'Strict' | 'Lax';
  /** Cookie lifetime in seconds (default 30 days). */
  maxAgeSeconds?: number;
}

/**
 * An `authenticate` hook recognised a user but gave no usable id (empty, or not a string):
 * binding tasks to it would let every such user share them. The request fails (HTTP 500,
 * logged with this code) instead.
 */
export class EmptyUserIdError extends WayflowError {
  override readonly name: string = 'EmptyUserIdError';
  constructor(readonly id: unknown) {
    super(
      'empty-user-id',
      `The authenticate hook returned a user whose id is ${id === '' ? "''" : String(id)}, not a non-empty string: tasks bound to it would be shared by every such user. Return the user's stable id, or null to fall back to the session cookie.`,
    );
  }
}

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** The storage owner of a session: the hash of its id, so a database dump does not reveal live cookies. */
const ownerOf = (sessionId: string) => `session:${createHash('sha256').update(sessionId).digest('base64url')}`;

const signature = (sessionId: string, key: string) => createHmac('sha256', key).update(sessionId).digest();

/** The session id of a `<id>.<HMAC>` cookie value, or null when malformed or not signed with `key`. */
function verifiedSessionId(value: string | undefined, key: string): string | null {
  const dot = value?.indexOf('.') ?? -1;
  if (!value || dot < 0) return null;
  const sessionId = value.slice(0, dot);
  if (!SESSION_ID.test(sessionId)) return null;
  const given = Buffer.from(value.slice(dot + 1), 'base64url');
  const expected = signature(sessionId, key);
  return given.length === expected.length && timingSafeEqual(given, expected) ? sessionId : null;
}

/** How many verified `Cookie` headers `sessionBinder` remembers, so a known one costs no parsing, HMAC nor hash. */
const KNOWN_SESSIONS = 10_000;
/** Longer `Cookie` headers are parsed every time rather than remembered (bounds the memory of the cache to about 10 MB). */
const KNOWN_HEADER_CHARS = 1024;

/**
 * The binder middleware: sets `caller` from `authenticate(request)` when it
 * recognises a user, else from a signed, HttpOnly session cookie, issuing one
 * when the request has none (or a forged one) and `admitNewSession` does not throw.
 * Only the hash of the session id is stored, so a database dump does not reveal live cookies.
 */
export function sessionBinder(
  secret: () => Promise<string>,
  options: SessionOptions & {
    authenticate?: Authenticate | undefined;
    /** Called before a new session is issued; throws to refuse the request (e.g. `sessionRateLimit`). */
    admitNewSession?: ((peer: RequestPeer) => void) | undefined;
  },
): MiddlewareHandler<{ Variables: { caller: Caller; peer: RequestPeer; answerHeaders?: AnswerHeaders } }> {
  const name = options.cookieName ?? 'wayflow_session';
  const secure = (peer: RequestPeer) => (options.secure === undefined || options.secure === 'auto' ? peer.secure : options.secure);
  // `Cookie` header -> owner, for headers whose session cookie verified with `knownKey`; least recently used forgotten first.
  const known = new Map<string, string>();
  let knownKey: string | undefined;
  const recall = (header: string | undefined) => {
    const owner = header === undefined ? undefined : known.get(header);
    if (owner !== undefined) {
      known.delete(header!);
      known.set(header!, owner);
    }
    return owner;
  };
  const remember = (header: string, owner: string) => {
    if (header.length > KNOWN_HEADER_CHARS) return;
    known.set(header, owner);
    if (known.size > KNOWN_SESSIONS) known.delete(known.keys().next().value as string);
  };
  /** A new session for a request without a valid cookie, once `admitNewSession` lets it in; resolves to its id. */
  const issue = (c: Context<{ Variables: { caller: Caller; peer: RequestPeer; answerHeaders?: AnswerHeaders } }>, key: string) => {
    options.admitNewSession?.(c.get('peer'));
    const sessionId = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
    const cookie = generateCookie(name, `${sessionId}.${signature(sessionId, key).toString('base64url')}`, {
      httpOnly: true,
      sameSite: options.sameSite ?? 'Lax',
      secure: secure(c.get('peer')),
      path: '/',
      maxAge: options.maxAgeSeconds ?? 30 * 24 * 3600,
    });
    // Behind the app's `answerHeaders`, with the other headers of the answer; in another app, on the answer to come.
    const gathered = c.get('answerHeaders');
    if (gathered) gathered['set-cookie'] = cookie;
    else c.header('Set-Cookie', cookie, { append: true });
    return sessionId;
  };
  return async (c, next) => {
    const user = options.authenticate ? await options.authenticate(c.req.raw) : null;
    if (user) {
      if (typeof user.id !== 'string' || user.id === '') throw new EmptyUserIdError(user.id);
      const actor: Actor = { id: user.id };
      if (user.groups) actor.groups = [...user.groups];
      if (user.permissions) actor.permissions = [...user.permissions];
      if (user.superuser) actor.superuser = true;
      c.set('caller', { owner: `user:${user.id}`, cookieAuthenticated: user.credentials === 'cookie', actor });
      return next();
    }
    const key = await secret();
    if (key !== knownKey) {
      known.clear();
      knownKey = key;
    }
    const header = c.req.header('cookie');
    let owner = recall(header);
    if (owner === undefined) {
      const verified = header === undefined ? null : verifiedSessionId(getCookie(c, name), key);
      const sessionId = verified ?? issue(c, key);
      owner = ownerOf(sessionId);
      if (verified) remember(header!, owner);
    }
    c.set('caller', { owner, cookieAuthenticated: true, actor: { id: owner } });
    return next();
  };
}
