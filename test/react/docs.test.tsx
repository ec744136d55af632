// @vitest-environment jsdom
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { german, GermanApp } from '../../docs/examples/react-messages.tsx';
import { JoinApp } from '../../docs/examples/react-fields.tsx';
import { RoutedApp } from '../../docs/examples/react-routes.tsx';
import { Layout, store as remote } from '../../docs/examples/react-save.tsx';
import { App, openAccount, views } from '../../docs/examples/react-views.tsx';
import { defaultMessages, FlowView } from '../../src/react/index.ts';
import { chooseFiles } from '../helpers/choose-files.ts';
import { fakeTasksServer } from '../helpers/fake-tasks-server.ts';

const guide = readFileSync(join(import.meta.dirname, '../../docs/react.md'), 'utf8');

beforeEach(() => {
  window.history.replaceState(null, '', '/');
});
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

const heading = (name: string) => screen.findByRole('heading', { level: 1, name });
const alerts = () => screen.getAllByRole('alert').map((el) => el.textContent);
const type = (label: string, value: string) => fireEvent.change(screen.getByLabelText(label), { target: { value } });
const press = (name: string) => fireEvent.click(screen.getByRole('button', { name }));
const taskId = () => new URLSearchParams(window.location.search).get('_id');

describe('the examples of docs/react.md', () => {
  it('runs the FlowView app: field errors, a custom select, the default choice view, the end; a reload resumes', async () => {
    render(<App />);
    await heading('About you');
    press('Continue');
    await waitFor(() => expect(alerts()).toEqual(['Some fields need your attention.', 'Enter your name', 'Enter your age', 'Choose your country']));
    expect(screen.getByLabelText('Country').getAttribute('aria-describedby')).toBe(screen.getByText('Choose your country').id);
    type('Full name', 'Ada Lovelace');
    type('Age', '17');
    type('Country', 'NL');
    press('Continue');
    await waitFor(() => expect(alerts()).toEqual(['Some fields need your attention.', 'You must be 18 or older']));
    type('Age', '36');
    press('Continue');
    await heading('What kind of account?');
    const id = taskId();
    cleanup();
    render(<App />);
    await heading('What kind of account?');
    expect(taskId()).toBe(id);
    fireEvent.click(screen.getByLabelText('Business'));
    press('Continue');
    await heading('Open the account');
    expect(screen.getByText('Ada Lovelace, a business account')).toBeTruthy();
    press('Back');
    await heading('What kind of account?');
    press('Back');
    await heading('About you');
    expect((screen.getByLabelText('Age') as HTMLInputElement).value).toBe('36');
    expect((screen.getByLabelText('Country') as HTMLSelectElement).value).toBe('NL');
    press('Continue');
    await heading('What kind of account?');
    fireEvent.click(screen.getByLabelText('Personal'));
    press('Continue');
    await heading('Open the account');
    press('Open my account');
    await heading('Your account is open');
  });

  it('runs the FlowRoutes app: a path per step, a step link, and one Back from the end leaves the flow', async () => {
    render(<RoutedApp />);
    fireEvent.click(await screen.findByRole('link', { name: 'Open an account' }));
    await heading('About you');
    await waitFor(() => expect(window.location.pathname).toBe('/open/details'));
    const id = taskId();
    type('Full name', 'Ada Lovelace');
    type('Age', '36');
    type('Country', 'DE');
    press('Continue');
    await heading('What kind of account?');
    await waitFor(() => expect(window.location.pathname).toBe('/open/kind'));
    fireEvent.click(screen.getByLabelText('Personal'));
    press('Continue');
    await heading('Open the account');
    await waitFor(() => expect(window.location.pathname).toBe('/open/review'));
    expect(screen.getByRole('link', { name: 'Change your details' }).getAttribute('href')).toBe(`/open/details?_id=${id}`);
    press('Open my account');
    await heading('Your account is open');
    await waitFor(() => expect(`${window.location.pathname}${window.location.search}`).toBe(`/open?_id=${id}`));
    act(() => window.history.back());
    expect(await screen.findByRole('link', { name: 'Open an account' })).toBeTruthy();
    await waitFor(() => expect(window.location.pathname).toBe('/'));
  });

  it('runs the app in German, problem pages included', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    window.history.replaceState(null, '', '/?_id=not-an-id');
    render(
      <GermanApp>
        <FlowView flow={openAccount} views={views} />
      </GermanApp>,
    );
    await heading('Dieser Link funktioniert nicht');
    expect(screen.getByRole('alert').textContent).toBe('Die Adresse ist unvollständig oder wurde verändert.');
    press('Neu beginnen');
    await heading('About you');
    expect(screen.getByText('Schritt 1 von 3')).toBeTruthy();
    expect(screen.getByRole('navigation', { name: 'Fortschritt' })).toBeTruthy();
    press('Weiter');
    await waitFor(() => expect(alerts()[0]).toBe('Bitte prüfen Sie die markierten Felder.'));
  });

  it('lists every message with its default in the table of docs/react.md', () => {
    expect(Object.keys(german).sort()).toEqual(Object.keys(defaultMessages).sort());
    const rows = new Map([...guide.matchAll(/^\| `(\w+)(?:\([^)]*\))?` \| (.*?) \| .* \|$/gm)].map((m) => [m[1]!, m[2]!]));
    for (const [key, value] of Object.entries(defaultMessages)) {
      expect(rows.has(key), `docs/react.md lists the message "${key}"`).toBe(true);
      const shown = typeof value === 'string' ? value : null;
      if (shown) expect(rows.get(key)).toBe(shown);
    }
    expect(rows.get('stepOf')).toBe(defaultMessages.stepOf(1, 3));
    expect(rows.get('announce')).toBe(defaultMessages.announce(1, 3, 'About you'));
    expect(rows.get('done')).toBe(defaultMessages.done('Open an account'));
    expect(rows.get('stopped')).toBe(defaultMessages.stopped('Open an account'));
    expect(rows.get('offline')).toBe(defaultMessages.offline(2));
    expect(rows.get('fileChosen')).toBe(defaultMessages.fileChosen('report.pdf'));
  });

  it('runs the save state layout: offline with the changes waiting, sent on request, saved', async () => {
    const server = fakeTasksServer();
    vi.spyOn(globalThis, 'fetch').mockImplementation(server.fetch);
    server.network.down = true;
    render(<Layout page={<FlowView flow={openAccount} views={views} />} />);
    await heading('About you');
    expect((await screen.findByText('Offline (1 waiting)')).getAttribute('role')).toBe('status');
    server.network.down = false;
    press('Send 1 now');
    await screen.findByText('All changes saved');
    expect(screen.queryByRole('button', { name: /^Send/ })).toBeNull();
    expect([...server.tasks.values()].map((task) => [task.flowId, task.version])).toEqual([['open-account', 1]]);
    remote.close();
  });

  it('runs the fields example: errors on every field, then the File uploaded and its id kept', async () => {
    const uploaded: FormDataEntryValue[] = [];
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (_url, init) => {
      uploaded.push((init?.body as FormData | undefined)?.get('file') ?? 'no file');
      return Response.json({ id: 'upload-7' });
    });
    render(<JoinApp />);
    await heading('Become a member');
    press('Continue');
    await waitFor(() =>
      expect(alerts()).toEqual(['Some fields need your attention.', 'Choose your country', 'Choose a plan', 'Accept the terms to continue', 'Add a scan of your passport']),
    );
    expect(screen.getByRole('group', { name: 'Plan' }).getAttribute('aria-describedby')).toBe(screen.getByText('Choose a plan').id);
    type('Country', 'NL');
    fireEvent.click(screen.getByLabelText('Premium'));
    fireEvent.click(screen.getByLabelText('I accept the terms'));
    type('Anything we should know?', 'Call after six');
    const scan = new File(['scan'], 'passport.png', { type: 'image/png' });
    chooseFiles(screen.getByLabelText('A scan of your passport'), [scan]);
    press('Continue');
    await heading('Welcome to the club');
    expect(uploaded).toEqual([scan]);
  });
});
