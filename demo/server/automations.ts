// The demo's automations module for `wayflow serve --automations`: order fulfilment, what
// browsers may do with it, and the demo's two identities.
import type { Authenticate } from '../../src/server/index.ts';
import { fulfilmentSync, orderFulfilment } from '../../flows/fulfilment/index.ts';

export const automations = [orderFulfilment];
export const sync = fulfilmentSync;

/** The cookie the demo's "Sign in as back office" button sets. */
export const DEMO_USER_COOKIE = 'wayflow_demo_user';

/**
 * DEMO ONLY, NOT AUTHENTICATION: a browser that sends `wayflow_demo_user=backoffice` is the
 * back-office colleague (group `backoffice`, may view the dashboard). Anybody can set that
 * cookie; a real application recognises users from its own signed session or token here.
 * Everybody else is an anonymous shopper bound to the server's session cookie.
 */
export const authenticate: Authenticate = (request) => {
  const cookie = request.headers.get('cookie') ?? '';
  const value = cookie
    .split(';')
    .map((part) => part.trim().split('='))
    .find(([name]) => name === DEMO_USER_COOKIE)?.[1];
  if (value !== 'backoffice') return null;
  return { id: 'backoffice', credentials: 'cookie', groups: ['backoffice'], permissions: ['automations.view'] };
};
