/**
 * DEMO TRAFFIC: simulated shoppers who go through the demo's checkout flow over the server's tasks API (a remote store
 * per shopper, as a browser has), so the back office's "Checkout funnel" shows a full picture: drop-offs at every step,
 * refused submissions (a quantity of 0, a wrong password, a bad card number or IBAN), moves back, the branches of the
 * identify and pay choices. Their days are spread over the past week (each shopper's clock runs in the past), so the
 * ones who gave up have expired by now and count as abandoned. They pay but place no order with the fulfilment automation,
 * so the back office's task list stays readable. `npm run demo:traffic` runs it against a running `npm start`.
 */
import { type Flow, startTask, type Task, type TaskClock } from '../../src/core/index.ts';
import { createCheckoutFlow, demoServices } from '../../flows/checkout/index.ts';
import { remoteStore } from '../../src/persist/index.ts';

/** Options of `runShoppers`. */
export interface ShopperOptions {
  /** The server, e.g. `http://127.0.0.1:8787`. */
  baseUrl: string;
  /** How many shoppers (default 300). */
  shoppers?: number;
  /** Seed of the choices shoppers make (default 1): the same seed, the same traffic. */
  seed?: number;
  /** Sessions the shoppers share, each with its own cookie (default 20: the server admits 60 new sessions a minute per address). */
  sessions?: number;
  /** Shoppers on their way at once (default 8). */
  concurrency?: number;
  /** The time the traffic ends at (default now); shoppers start within the 7 days before it. */
  now?: number;
  fetch?: typeof fetch;
}

/** What `runShoppers` did. */
export interface TrafficReport {
  shoppers: number;
  completed: number;
  /** Shoppers who stopped before paying. */
  gaveUp: number;
}

const WEEK = 7 * 24 * 3600 * 1000;

/** A small seeded random generator (mulberry32): the same seed, the same numbers. */
export function seeded(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A fetch that keeps one session cookie and sends the server's origin, as a browser tab of the shop does, and waits
 * out the server's rate limits (429 with Retry-After) instead of failing: simulated shoppers are faster than people.
 */
function sessionFetch(baseUrl: string, fetcher: typeof fetch): typeof fetch {
  let cookie: string | null = null;
  const origin = new URL(baseUrl).origin;
  return async (input, init) => {
    for (let attempt = 0; ; attempt++) {
      const headers = new Headers(init?.headers);
      if (cookie) headers.set('cookie', cookie);
      headers.set('origin', origin);
      const response = await fetcher(input, { ...init, headers });
      const set = response.headers.get('set-cookie');
      if (set) cookie = set.split(';')[0]!;
      if (response.status !== 429 || attempt >= 30) return response;
      const seconds = Number(response.headers.get('retry-after') ?? 1);
      await new Promise((resolve) => setTimeout(resolve, Math.min(5, Number.isFinite(seconds) ? seconds : 1) * 1000));
    }
  };
}

/** Thrown by a shopper's script to stop where the shopper gives up. */
class GaveUp extends Error {}

/**
 * Drives `shoppers` simulated shoppers through the checkout of the demo, each with a remote store on the server at
 * `baseUrl`, and waits until the server has every write.
 * @example
 * await runShoppers({ baseUrl: 'http://127.0.0.1:8787', shoppers: 300 });
 */
export async function runShoppers(options: ShopperOptions): Promise<TrafficReport> {
  const random = seeded(options.seed ?? 1);
  const fetcher = options.fetch ?? fetch;
  const count = options.shoppers ?? 300;
  const end = options.now ?? Date.now();
  const services = demoServices();
  const flow: Flow = createCheckoutFlow(services);
  const fetches = Array.from({ length: options.sessions ?? 20 }, () => sessionFetch(options.baseUrl, fetcher));
  const report: TrafficReport = { shoppers: count, completed: 0, gaveUp: 0 };
  const chance = (p: number) => random() < p;
  const pick = <T>(weighted: [T, number][]): T => {
    let roll = random() * weighted.reduce((sum, [, w]) => sum + w, 0);
    for (const [value, weight] of weighted) {
      roll -= weight;
      if (roll < 0) return value;
    }
    return weighted.at(-1)![0];
  };

  const shop = async (index: number) => {
    const store = remoteStore({ baseUrl: options.baseUrl, fetch: fetches[index % fetches.length]!, retryIntervalMs: 0 });
    // The shopper's own clock, in the past: think times move it on.
    let now = end - WEEK + random() * (WEEK - 3_600_000);
    const clock: TaskClock = { now: () => now, setTimeout: () => 0, clearTimeout: () => undefined };
    const think = (seconds: number) => {
      now += 1000 * seconds * (0.4 + 1.2 * random());
    };
    const giveUpIf = (p: number) => {
      if (chance(p)) throw new GaveUp();
    };
    const task: Task = await startTask(flow, { store, clock, binder: `shopper-${index}` });
    /** Submits `input`; a submission meant to pass that does not (the server refused the write) leaves the shopper there. */
    const submit = async (input: unknown, seconds: number, refused = false) => {
      think(seconds);
      const result = await task.submit(input);
      if (!refused && !result.ok) throw new GaveUp();
    };
    const move = (to: Promise<void>) =>
      to.catch(() => {
        throw new GaveUp();
      });
    try {
      giveUpIf(0.1);
      if (chance(0.1)) await submit({ quantity: 0 }, 8, true);
      await submit({ quantity: 1 + Math.floor(random() * 3) }, 12);
      giveUpIf(0.08);
      const way = pick<'login' | 'register' | 'forgotPassword'>([
        ['login', 55],
        ['register', 35],
        ['forgotPassword', 10],
      ]);
      await submit({ choice: way }, 6);
      const ada = chance(0.5);
      if (way === 'login') {
        if (chance(0.25)) await submit({ email: 'ada@example.com', password: 'analytic' }, 20, true);
        giveUpIf(0.08);
        await submit(ada ? { email: 'ada@example.com', password: 'analytical' } : { email: 'alan@example.com', password: 'enigma-machine' }, 18);
      } else if (way === 'register') {
        if (chance(0.2)) await submit({ name: 'Grace', email: 'grace', password: 'short' }, 40, true);
        giveUpIf(0.12);
        await submit({ name: `Shopper ${index}`, email: `shopper-${options.seed ?? 1}-${index}-${now}@example.com`, password: 'long enough' }, 45);
      } else {
        // An account of this shopper's own, so no other shopper's reset replaces its code.
        const email = `forgetful-${options.seed ?? 1}-${index}-${now}@example.com`;
        await services.accounts.register(`Shopper ${index}`, email, 'forgotten one');
        await submit({ email }, 15);
        giveUpIf(0.25);
        const code = services.accounts.outbox.get(email) ?? '000000';
        if (chance(0.3)) await submit({ code: '123456' }, 60, true);
        await submit({ code }, 90);
        giveUpIf(0.1);
        await submit({ password: 'remembered now', confirm: 'remembered now' }, 30);
      }
      giveUpIf(0.07);
      const saved = way === 'login' && ada;
      let method = saved && chance(0.7) ? 'savedMethod' : pick<string>([['card', 60], ['bank', 25], ['paypal', 15]]);
      for (let attempt = 0; ; attempt++) {
        if (method === 'savedMethod') {
          await submit({ choice: 'savedMethod' }, 5);
          await submit({ methodId: 'pm-1' }, 6);
        } else {
          await submit({ choice: 'newMethod' }, 5);
          await submit({ choice: method }, 5);
          if (method === 'card') {
            if (chance(0.3)) await submit({ holder: 'A Shopper', number: '4242 4242 4242 4241', expiry: '12/29', cvc: '123' }, 50, true);
            if (chance(0.1)) await submit({ holder: 'A Shopper', number: '4242 4242 4242 4242', expiry: '13/29', cvc: '1' }, 30, true);
            giveUpIf(0.1);
            await submit({ holder: 'A Shopper', number: '4242 4242 4242 4242', expiry: '12/29', cvc: '123' }, 40);
          } else if (method === 'bank') {
            if (chance(0.25)) await submit({ holder: 'A Shopper', iban: 'DE00 1234' }, 50, true);
            giveUpIf(0.12);
            await submit({ holder: 'A Shopper', iban: 'DE89 3704 0044 0532 0130 00' }, 45);
            if (chance(0.15)) await submit({ street: '', city: 'Berlin', postcode: '10115', country: 'Germany' }, 40, true);
            await submit({ street: 'Unter den Linden 1', city: 'Berlin', postcode: '10117', country: 'DE' }, 40);
          } else {
            await submit({ email: `paypal-${index}@example.com` }, 20);
          }
        }
        // At the confirmation some go back to change how they pay, once.
        if (attempt > 0 || !chance(0.12)) break;
        think(10);
        await move(task.goTo('pay'));
        method = pick<string>([['card', 50], ['paypal', 50]]);
      }
      giveUpIf(0.08);
      if (chance(0.1)) {
        think(8);
        await move(task.back());
        think(5);
        await move(task.goTo('confirm'));
      }
      await submit(undefined, 15);
      // A shopper left at a step (a payment refused for good) expires there, as one who gave up.
      if (task.state.status === 'completed') report.completed++;
      else report.gaveUp++;
    } catch (error) {
      if (!(error instanceof GaveUp)) throw error;
      report.gaveUp++;
    } finally {
      task.dispose();
      // Writes refused with 429 (the server's rate limits) wait in the store's outbox: send them until none is left.
      for (let round = 0; (await store.sync()).waiting > 0 && round < 60; round++) await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };

  let next = 0;
  const worker = async () => {
    while (next < count) await shop(next++);
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  return report;
}
