import { WayflowError } from '../../core/index.ts';
import type { FlowDefinition } from './flow.ts';

/** The longest trigger name (django-flowcontrol's `MAX_TRIGGER_NAME_LENGTH`). */
export const MAX_TRIGGER_NAME_LENGTH = 100;

/** A trigger name is empty, longer than `MAX_TRIGGER_NAME_LENGTH`, or registered twice. */
export class FlowTriggerNameError extends WayflowError {
  override readonly name: string = 'FlowTriggerNameError';
  constructor(
    readonly trigger: string,
    where: string,
    problem: 'empty' | 'too-long' | 'duplicate',
  ) {
    const what =
      problem === 'empty'
        ? 'is empty'
        : problem === 'too-long'
          ? `is ${trigger.length} characters long, more than ${MAX_TRIGGER_NAME_LENGTH}`
          : 'is registered twice';
    super(
      'flowcontrol-trigger-name',
      `${where}: trigger name ${problem === 'empty' ? '' : `"${trigger.length > 40 ? `${trigger.slice(0, 40)}…` : trigger}" `}${what}. Give each trigger one non-empty name of at most ${MAX_TRIGGER_NAME_LENGTH} characters.`,
    );
  }
}

/** Throws `FlowTriggerNameError` when `trigger` is empty or too long (`where` names the flow, action or registry). */
export function checkTriggerName(trigger: string, where: string): void {
  if (typeof trigger !== 'string' || trigger.length === 0) throw new FlowTriggerNameError(String(trigger ?? ''), where, 'empty');
  if (trigger.length > MAX_TRIGGER_NAME_LENGTH) throw new FlowTriggerNameError(trigger, where, 'too-long');
}

/** What a trigger's condition sees: the object and the state the trigger was fired with. */
export interface TriggerInput {
  readonly objectId: string | null;
  readonly objectType: string | null;
  readonly state: Readonly<Record<string, unknown>>;
}

/**
 * A trigger of a flow (django-flowcontrol's `Trigger` row): its name; with `resetTo`, firing it
 * does not create a run but resets the flow's newest unfinished run (for the fired object) to
 * that action (none when there is no such run); with `condition`, it acts only when the
 * condition holds.
 */
export interface FlowTrigger {
  readonly name: string;
  /** The name of an action of the flow: reset the unfinished run to it instead of creating a run. */
  readonly resetTo?: string;
  readonly condition?: (input: TriggerInput) => boolean;
  /** When this trigger acts (the seed's trigger `active_at`), as `FlowDefinition.activeAt`: absent, always; null, never. */
  readonly activeAt?: number | null;
}

/** The flow's triggers as `FlowTrigger`s (names become `{ name }`). */
export function flowTriggers(flow: Pick<FlowDefinition, 'triggers'>): FlowTrigger[] {
  return (flow.triggers ?? []).map((t) => (typeof t === 'string' ? { name: t } : t));
}
