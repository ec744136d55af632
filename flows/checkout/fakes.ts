/**
 * DEMO FAKES: in-memory stand-ins for an account service and a payment
 * provider, so the checkout flow runs in the demo, the tests and the
 * benchmarks without a backend. Not for production use.
 */
import type { User } from '../../src/core/index.ts';

/** A payment method the user saved earlier. */
export interface SavedMethod {
  id: string;
  label: string;
}

/** A signed-in demo user. */
export interface DemoUser extends User {
  name: string;
  email: string;
  savedMethods: SavedMethod[];
}

/** A charge made by the fake payment provider. */
export interface DemoCharge {
  id: string;
  idempotencyKey: string;
  amountCents: number;
  method: string;
}

/** Options for the demo fakes. */
export interface DemoOptions {
  /** Milliseconds each service call waits, to show pending states. */
  latencyMs?: number;
}

const wait = (ms: number) => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve());

/** DEMO FAKE account service: log in, register, and reset a password with an emailed code. */
export function demoAccounts(options: DemoOptions = {}) {
  const users = new Map<string, DemoUser & { password: string }>([
    [
      'ada@example.com',
      {
        id: 'u-ada',
        name: 'Ada Lovelace',
        email: 'ada@example.com',
        password: 'analytical',
        savedMethods: [{ id: 'pm-1', label: 'Visa ending 4242' }],
      },
    ],
    ['alan@example.com', { id: 'u-alan', name: 'Alan Turing', email: 'alan@example.com', password: 'enigma-machine', savedMethods: [] }],
  ]);
  /** Reset codes "emailed" to users, readable by tests and shown by the demo. */
  const outbox = new Map<string, string>();
  let codes = 0;
  const publicUser = ({ password: _password, ...user }: DemoUser & { password: string }): DemoUser => structuredClone(user);
  return {
    outbox,
    async login(email: string, password: string): Promise<DemoUser | null> {
      await wait(options.latencyMs ?? 0);
      const user = users.get(email.toLowerCase());
      return user && user.password === password ? publicUser(user) : null;
    },
    async register(name: string, email: string, password: string): Promise<DemoUser | null> {
      await wait(options.latencyMs ?? 0);
      const key = email.toLowerCase();
      if (users.has(key)) return null;
      const user = { id: `u-${users.size + 1}`, name, email: key, password, savedMethods: [] };
      users.set(key, user);
      return publicUser(user);
    },
    async sendResetCode(email: string): Promise<void> {
      await wait(options.latencyMs ?? 0);
      if (users.has(email.toLowerCase())) outbox.set(email.toLowerCase(), String(100000 + ((codes++ * 7919) % 900000)));
    },
    async checkResetCode(email: string, code: string): Promise<boolean> {
      await wait(options.latencyMs ?? 0);
      return outbox.get(email.toLowerCase()) === code;
    },
    async resetPassword(email: string, code: string, password: string): Promise<DemoUser | null> {
      await wait(options.latencyMs ?? 0);
      const user = users.get(email.toLowerCase());
      if (!user || outbox.get(email.toLowerCase()) !== code) return null;
      user.password = password;
      outbox.delete(email.toLowerCase());
      return publicUser(user);
    },
  };
}

/** DEMO FAKE payment provider: charges are idempotent by key, so a retried submit never charges twice. */
export function demoPayments(options: DemoOptions = {}) {
  const charges = new Map<string, DemoCharge>();
  return {
    charges,
    async charge(idempotencyKey: string, amountCents: number, method: string): Promise<DemoCharge> {
      await wait(options.latencyMs ?? 0);
      const existing = charges.get(idempotencyKey);
      if (existing) return existing;
      const charge = { id: `ch-${charges.size + 1}`, idempotencyKey, amountCents, method };
      charges.set(idempotencyKey, charge);
      return charge;
    },
  };
}

/** The services the checkout flow calls. */
export interface CheckoutServices {
  accounts: ReturnType<typeof demoAccounts>;
  payments: ReturnType<typeof demoPayments>;
}

/** DEMO FAKE services, fresh each call. */
export function demoServices(options: DemoOptions = {}): CheckoutServices {
  return { accounts: demoAccounts(options), payments: demoPayments(options) };
}
