// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { FulfilmentMap } from '../../../docs/examples/process-map.tsx';

afterEach(cleanup);

describe('the process map example of docs/sync-client.md', () => {
  it('shows the counts and lists the instances of the node the user chooses', async () => {
    const at: Record<string, string[]> = { approve: ['i1', 'i2', 'i3'] };
    render(<FulfilmentMap counts={{ approve: { waiting: 3, passed: 12 }, refund: { passed: 2 } }} instancesAt={(node) => at[node] ?? []} />);
    fireEvent.click(screen.getByRole('button', { name: 'Approve the order: 3 waiting, 12 passed, 0 errors' }));
    const list = await screen.findByRole('region', { name: 'Instances at approve' });
    expect([...list.querySelectorAll('li')].map((li) => li.textContent)).toEqual(['i1', 'i2', 'i3']);
    expect(screen.getByRole('button', { name: /^Approve the order: / }).getAttribute('aria-pressed')).toBe('true');
  });
});
