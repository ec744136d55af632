import { createContext, useContext, useEffect } from 'react';
import type { WayflowError } from '../core/index.ts';
import type { AutomationMessages } from './automations/messages.ts';
import { useProvided } from './context.ts';

/**
 * Every string the components of `wayflow/react` and `wayflow/router` show, in English.
 * Give `<WayflowProvider messages={…}>` the ones to change (the rest keep these);
 * `useMessages()` reads them in your own views.
 */
export const defaultMessages = {
  /** While the task opens. */
  loading: 'Loading…',
  /** The primary button of a step form (`StepForm`'s `submitLabel` overrides it per form). */
  continue: 'Continue',
  back: 'Back',
  /** Runs a failed automatic step again. */
  retry: 'Try again',
  /** On the problem pages: drops the task in the address and starts a new one. */
  startOver: 'Start over',
  /** The legend of the default choice view. */
  chooseOne: 'Choose one',
  /** Next to the choice when none was taken. */
  choiceMissing: 'Choose one of the options.',
  /** Above a form whose fields did not validate. */
  invalidInput: 'Some fields need your attention.',
  /** Any refused submission or move; the developer's message stays on `state.error` and the console. */
  failed: 'Something went wrong. Please try again.',
  /** A `version-conflict`: the task was changed in another tab or window. */
  conflict: 'This was changed in another tab. Reload the page to continue.',
  /** The label of the progress navigation. */
  progress: 'Progress',
  stepOf: (current: number, total: number) => `Step ${current} of ${total}`,
  /** What the live region announces when a step is shown. */
  announce: (current: number, total: number, title: string) => `Step ${current} of ${total}: ${title}`,
  /** The default heading (and announcement) of a completed flow. */
  done: (flow: string) => `${flow}: done`,
  /** The default heading (and announcement) of an aborted flow. */
  stopped: (flow: string) => `${flow}: stopped`,
  expired: 'This task expired',
  /** Also shown when a change is refused because the task expired (`task-expired`). */
  expiredText: 'It was left idle for too long, so what you entered was cleared.',
  notFound: 'This task was not found',
  notFoundText: 'It may have finished, or it belongs to another browser or account.',
  /** The problem page of a malformed task id in the address. */
  badLink: 'This link does not work',
  badLinkText: 'The address is incomplete or was changed.',
  /** The problem page of a task that could not be opened for another reason (the store failed, a record this version cannot read). */
  cannotOpen: 'This task could not be opened',
  /** `SaveStatus`: every change reached the server. */
  saved: 'All changes saved',
  /** `SaveStatus`: a change is on its way to the server. */
  saving: 'Saving…',
  /** `SaveStatus`: the server is unreachable; `waiting` changes are kept on this device and sent when it is back. */
  offline: (waiting: number) => `Offline (${waiting} waiting)`,
  /** `SaveStatus`: changes made elsewhere meanwhile refused some of these. */
  saveConflict: 'Not saved: this was changed elsewhere.',
  /** `SaveStatus`: the last change could not be saved. */
  saveFailed: 'Your changes could not be saved.',
  /** `FileField`: the file chosen before a reload or a visit back (browsers cannot put it back), by name. */
  fileChosen: (name: string) => `You chose ${name}; choose it again.`,
};

/** The strings of `defaultMessages`, by key; those of `wayflow/react/automations` (`automationMessages`) may be given too. */
export type WayflowMessages = typeof defaultMessages & Partial<AutomationMessages>;

export const MessagesContext = createContext<WayflowMessages>(defaultMessages);

/**
 * The strings wayflow's components show, as given to the nearest `WayflowProvider` (English by default).
 * @example
 * const { back, stepOf } = useMessages();
 */
export function useMessages(): WayflowMessages {
  return useContext(MessagesContext);
}

const logged = new WeakSet<Error>();

/**
 * What to tell the user about `error` (`failed`, or `conflict`, `expiredText`, `badLinkText`
 * for their codes), never the developer's message: that one goes to the console, once.
 * @example
 * const { error } = useTask();
 * const text = useErrorMessage(error);
 * return text && <p role="alert">{text}</p>;
 */
export function useErrorMessage(error: WayflowError | null | undefined): string | null {
  const m = useMessages();
  useEffect(() => {
    if (!error || logged.has(error)) return;
    logged.add(error);
    console.error(error);
  }, [error]);
  if (!error) return null;
  const text = ({ 'version-conflict': m.conflict, 'task-expired': m.expiredText, 'invalid-task-id': m.badLinkText } as Record<string, string>)[error.code];
  return text ?? m.failed;
}

/**
 * The message a step form shows above its fields, in the user's words: a refusal
 * (see `useErrorMessage`), `invalidInput` for fields that did not validate or a choice
 * not taken, or the message the app's action gave `outcome.fail(…)`; null when there is none.
 * @example
 * const message = useStepMessage();
 * return message && <div role="alert">{message}</div>;
 */
export function useStepMessage(): string | null {
  const { step, message, error } = useProvided();
  const m = useMessages();
  // The core says invalid input in English (the default); a choice step's only message is a choice not taken.
  return useErrorMessage(error) ?? (message === defaultMessages.invalidInput || step?.kind === 'choice' ? m.invalidInput : message);
}
