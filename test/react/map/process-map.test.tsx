// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type MapGraph, mapLabels, ProcessMap } from '../../../src/react/map/index.ts';

afterEach(cleanup);

const fulfilment: MapGraph = {
  nodes: [
    { id: 'start', label: 'Order placed' },
    { id: 'approve', label: 'Approve the order', kind: 'form' },
    { id: 'ship', label: 'Ship' },
    { id: 'refund', label: 'Refund' },
    { id: 'end', label: 'Done', kind: 'end' },
  ],
  edges: [
    { from: 'start', to: 'approve' },
    { from: 'approve', to: 'ship', label: 'approved' },
    { from: 'approve', to: 'refund', label: 'rejected' },
    { from: 'ship', to: 'end' },
    { from: 'refund', to: 'end' },
  ],
};

describe('ProcessMap', () => {
  it('draws the process as an accessible picture and tells each node’s counts, also in a table', () => {
    render(<ProcessMap title="Order fulfilment" graph={fulfilment} counts={{ approve: { waiting: 3, passed: 40 }, refund: { passed: 2, errors: 1 } }} />);
    expect(screen.getByRole('img', { name: 'Order fulfilment' })).toBeTruthy();
    expect(screen.getByLabelText('Approve the order: 3 waiting, 40 passed, 0 errors')).toBeTruthy();
    const table = screen.getByRole('table', { name: 'Order fulfilment' });
    const rows = within(table)
      .getAllByRole('row')
      .slice(1)
      .map((row) => [...row.querySelectorAll('th, td')].map((cell) => cell.textContent));
    expect(rows).toEqual([
      ['Order placed', '0', '0', '0'],
      ['Approve the order', '3', '40', '0'],
      ['Ship', '0', '0', '0'],
      ['Refund', '0', '2', '1'],
      ['Done', '0', '0', '0'],
    ]);
    expect(screen.getByText('rejected')).toBeTruthy();
  });

  it('lets the user choose a node by click, by keyboard, or from the table', () => {
    const chosen = vi.fn();
    const { rerender } = render(<ProcessMap title="Order fulfilment" graph={fulfilment} onSelectNode={chosen} />);
    const approve = screen.getByRole('button', { name: /^Approve the order: / });
    fireEvent.click(approve);
    fireEvent.keyDown(screen.getByRole('button', { name: /^Ship: / }), { key: 'Enter' });
    fireEvent.keyDown(screen.getByRole('button', { name: /^Refund: / }), { key: ' ' });
    fireEvent.keyDown(screen.getByRole('button', { name: /^Done: / }), { key: 'a' });
    fireEvent.click(screen.getByRole('button', { name: 'Order placed' }));
    expect(chosen.mock.calls.map(([id]) => id)).toEqual(['approve', 'ship', 'refund', 'start']);
    rerender(<ProcessMap title="Order fulfilment" graph={fulfilment} onSelectNode={chosen} selected="approve" />);
    expect(screen.getByRole('button', { name: /^Approve the order: / }).getAttribute('aria-pressed')).toBe('true');
  });

  it('speaks the words it is given', () => {
    const labels = { ...mapLabels, waiting: 'En attente', describe: (label: string, c: { waiting: number }) => `${label} : ${c.waiting} en attente` };
    render(<ProcessMap title="Commande" graph={fulfilment} labels={labels} counts={{ ship: { waiting: 2 } }} />);
    expect(screen.getByRole('columnheader', { name: 'En attente' })).toBeTruthy();
    expect(screen.getByLabelText('Ship : 2 en attente')).toBeTruthy();
  });
});
