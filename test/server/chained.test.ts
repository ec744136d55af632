import { Hono, type MiddlewareHandler } from 'hono';
import { describe, expect, it } from 'vitest';
import { chained } from '../../src/server/chained.ts';

/** An app: `outer` around `chained(steps)`, then a route answering 'route'; errors answered by `onError` as `error <message>`. */
function appWith(steps: MiddlewareHandler[], seen: string[]) {
  const app = new Hono();
  app.use(async (c, next) => {
    await next();
    seen.push(`outer after: ${c.res.status}`);
    c.res.headers.set('x-outer', 'yes');
  });
  app.use(chained(steps));
  app.onError((error, c) => {
    seen.push(`onError: ${c.error === error}`);
    return c.text(`error ${error.message}`, 418);
  });
  app.get('/', (c) => {
    seen.push('route');
    return c.text('route');
  });
  return app;
}

const step =
  (name: string, seen: string[]): MiddlewareHandler =>
  async (_c, next) => {
    seen.push(name);
    return next();
  };

describe('chained', () => {
  it('runs the middleware in order, then the route, as one step of the chain', async () => {
    const seen: string[] = [];
    const response = await appWith([step('a', seen), step('b', seen), step('c', seen)], seen).request('/');
    expect(await response.text()).toBe('route');
    expect(response.headers.get('x-outer')).toBe('yes');
    expect(seen).toEqual(['a', 'b', 'c', 'route', 'outer after: 200']);
  });

  it('ends with the answer of a middleware that answers without next: the rest and the route do not run', async () => {
    const seen: string[] = [];
    const early: MiddlewareHandler = async (c) => c.text('early', 202);
    const response = await appWith([step('a', seen), early, step('c', seen)], seen).request('/');
    expect(response.status).toBe(202);
    expect(response.headers.get('x-outer')).toBe('yes');
    expect(seen).toEqual(['a', 'outer after: 202']);
  });

  it("fails with a middleware's error, thrown or rejected: the app's onError answers with c.error set, the middleware around the chain sees its answer", async () => {
    for (const failing of [
      (async () => {
        throw new Error('rejected');
      }) as MiddlewareHandler,
      (() => {
        throw new Error('thrown');
      }) as unknown as MiddlewareHandler,
    ]) {
      const seen: string[] = [];
      const response = await appWith([step('a', seen), failing, step('c', seen)], seen).request('/');
      expect(response.status).toBe(418);
      expect(await response.text()).toMatch(/^error (rejected|thrown)$/);
      expect(response.headers.get('x-outer')).toBe('yes');
      expect(seen).toEqual(['a', 'onError: true', 'outer after: 418']);
    }
  });

  it('with no middleware, runs the route', async () => {
    const seen: string[] = [];
    expect(await (await appWith([], seen).request('/')).text()).toBe('route');
  });
});
