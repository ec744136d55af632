// @vitest-environment jsdom
import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckoutFunnel } from '../../../docs/examples/funnel.tsx';
import type { HistoryEntry } from '../../../src/core/store.ts';
import { Funnel } from '../../../src/react/funnel/index.ts';
import { funnelsOf } from '../../../src/server/funnel/model.ts';

afterEach(cleanup);

const entry = (at: number, event: string, from: string | null, to: string, fields?: string[]): HistoryEntry => ({ at, event, from, to, actor: null, ...(fields ? { fields } : {}) });
const tasks = [
  [entry(0, 'start', null, 'cart'), entry(2000, 'submit', 'cart', 'pay'), entry(2500, 'submit', 'pay', 'card'), entry(4000, 'submit', 'card', '$completed')],
  [entry(0, 'start', null, 'cart'), entry(1000, 'submit', 'cart', 'pay'), entry(1500, 'submit', 'pay', 'paypal'), entry(1600, 'back', 'paypal', 'pay')],
  [entry(0, 'start', null, 'cart'), entry(400, 'refused', 'cart', 'cart', ['email', 'zip']), entry(900, 'refused', 'cart', 'cart', ['email'])],
].map((history) => ({ flowVersion: 2, createdAt: 0, history, ended: true }));
const [funnel] = funnelsOf('checkout', tasks, { since: 0, until: 10 });

const rowsOf = (table: HTMLElement) =>
  within(table)
    .getAllByRole('row')
    .map((row) => [...row.querySelectorAll('th, td')].map((cell) => cell.textContent));

describe('Funnel', () => {
  it('draws a bar per step as an accessible picture, with the figures in a table beside it', () => {
    render(<Funnel title="Checkout" funnel={funnel!} />);
    expect(screen.getByRole('img', { name: 'Checkout' }).querySelectorAll('rect')).toHaveLength(4);
    expect(rowsOf(screen.getByRole('table', { name: 'Checkout' }))).toEqual([
      ['Step', 'Reached', 'Abandoned', 'Refused', 'Median time', 'p90 time'],
      ['cart', '3', '1', '2 (email 2, zip 1)', '1.0 s', '2.0 s'],
      ['pay', '2', '1', '0', '500 ms', '500 ms'],
      ['card', '1', '0', '0', '1.5 s', '1.5 s'],
      ['paypal', '1', '0', '0', '100 ms', '100 ms'],
    ]);
  });

  it('indents the branches of a choice under it, and takes translated headings', () => {
    render(<Funnel title="Kasse" funnel={funnel!} columns={['Schritt', 'Erreicht', 'Abgebrochen', 'Abgelehnt', 'Median', 'p90']} />);
    const bars = [...screen.getByRole('img', { name: 'Kasse' }).querySelectorAll('g')].map((g) => [g.textContent, g.getAttribute('transform')]);
    expect(bars).toEqual([
      ['cart: 3', 'translate(0 0)'],
      ['pay: 2', 'translate(0 28)'],
      ['card: 1', 'translate(24 56)'],
      ['paypal: 1', 'translate(24 84)'],
    ]);
    expect(screen.getByRole('columnheader', { name: 'Abgebrochen' })).toBeTruthy();
  });
});

describe('the funnel example of docs/funnels.md', () => {
  it('reads the funnels of the checkout and shows each version with its moves back', async () => {
    const asked: string[] = [];
    const fetchJson = async (url: string) => {
      asked.push(url);
      return { funnels: [funnel] };
    };
    render(<CheckoutFunnel since="24h" fetchJson={fetchJson} />);
    const section = await screen.findByRole('region', { name: 'Checkout version 2' });
    expect(within(section).getByRole('img', { name: 'Checkout v2: 3 started, 1 completed, 2 abandoned' })).toBeTruthy();
    expect(within(section).getByRole('list', { name: 'Back and go-to moves' }).textContent).toBe('paypal → pay: 1');
    expect(new Set(asked)).toEqual(new Set(['/funnels/checkout?since=24h']));
  });
});
