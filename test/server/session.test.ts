import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { WayflowError } from '../../src/core/errors.ts';
import { type AuthenticatedUser, type Caller, EmptyUserIdError, sessionBinder } from '../../src/server/index.ts';

/** A bare app with only the binder middleware: it answers with the caller it was bound to, or the error code. */
function appWith(user: AuthenticatedUser | null) {
  const app = new Hono<{ Variables: { caller: Caller } }>();
  app.use(sessionBinder(async () => 'a-session-secret-of-enough-length', { authenticate: () => user }));
  app.get('/', (c) => c.json(c.get('caller')));
  app.onError((error, c) => c.json({ code: error instanceof WayflowError ? error.code : 'internal', name: error.name }, 500));
  return app;
}

describe('sessionBinder', () => {
  it('binds an authenticated user by id', async () => {
    const response = await appWith({ id: 'ada', credentials: 'header' }).request('https://app.test/');
    expect(await response.json()).toMatchObject({ owner: 'user:ada', cookieAuthenticated: false });
  });

  it('refuses a user the authenticate hook returned without an id, instead of binding every such user to "user:"', async () => {
    for (const id of ['', undefined, 42]) {
      const response = await appWith({ id, credentials: 'cookie' } as unknown as AuthenticatedUser).request('https://app.test/');
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({ code: 'empty-user-id', name: 'EmptyUserIdError' });
    }
    expect(new EmptyUserIdError('').message).toMatch(/user whose id is '', not a non-empty string.*Return the user's stable id, or null/);
  });
});
