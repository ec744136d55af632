import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type AutomationDefinition, type FlowDefinition, flowTriggers } from '../../automations/index.ts';
import type { Authenticate } from '../session.ts';
import type { SyncOptions } from '../sync/options.ts';
import { AutomationsModuleError } from './errors.ts';

/** A trigger the module declares for its flows, as `FlowControl.registerTrigger` takes it. */
export interface TriggerDeclaration {
  name: string;
  label?: string;
  description?: string;
}

/** What an automations module (`--automations <module>`) exports: automation definitions, flowcontrol flows, triggers. */
export interface AutomationModule {
  automations: AutomationDefinition[];
  flows: FlowDefinition[];
  /** The module's `triggers` export, plus every trigger its flows name that it does not declare. */
  triggers: TriggerDeclaration[];
  /** The module's `sync` export: what browsers may do with its automations through `/automations` (see `SyncOptions`). */
  sync?: SyncOptions;
  /** The module's `authenticate` export: recognises users (with groups and permissions) for forms and the dashboard. */
  authenticate?: Authenticate;
}

/** Whether a value has the shape `defineAutomation` returns (checked by shape: the module may bundle its own copy). */
function isDefinition(value: unknown): value is AutomationDefinition {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<AutomationDefinition>;
  return typeof candidate.name === 'string' && Array.isArray(candidate.order) && typeof candidate.nodes === 'object' && candidate.nodes !== null;
}

/** Whether a value has the shape of a flowcontrol `FlowDefinition`: a name and a list of actions with `run` functions. */
function isFlow(value: unknown): value is FlowDefinition {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<FlowDefinition>;
  return (
    typeof candidate.name === 'string' &&
    Array.isArray(candidate.actions) &&
    candidate.actions.every((a: unknown) => typeof a === 'object' && a !== null && typeof (a as { run?: unknown }).run === 'function')
  );
}

/** Adds `values` to `byName`, refusing two different objects of one kind under one name. */
function collect<T extends { name: string }>(modulePath: string, kind: string, values: readonly T[], byName: Map<string, T>): void {
  for (const value of values) {
    const other = byName.get(value.name);
    if (other && other !== value) throw new AutomationsModuleError(modulePath, `it exports two different ${kind} named "${value.name}"`);
    byName.set(value.name, value);
  }
}

/** The module's `triggers` export (names or `{ name, label?, description? }`), then the triggers its flows name. */
function triggersOf(modulePath: string, exported: unknown, flows: readonly FlowDefinition[]): TriggerDeclaration[] {
  const byName = new Map<string, TriggerDeclaration>();
  if (exported !== undefined) {
    if (!Array.isArray(exported)) throw new AutomationsModuleError(modulePath, 'its "triggers" export is not an array');
    for (const item of exported as unknown[]) {
      const declaration = typeof item === 'string' ? { name: item } : (item as TriggerDeclaration);
      if (typeof declaration !== 'object' || declaration === null || typeof declaration.name !== 'string') {
        throw new AutomationsModuleError(modulePath, 'its "triggers" list holds something that is neither a trigger name nor { name, label?, description? }');
      }
      byName.set(declaration.name, declaration);
    }
  }
  for (const flow of flows) for (const { name } of flowTriggers(flow)) if (!byName.has(name)) byName.set(name, { name });
  return [...byName.values()];
}

/**
 * Imports the module at `modulePath` (relative to `cwd`) and returns what it exports:
 * - automations: its `automations` array, else those in its default export (a definition or
 *   an array), else every named export that is an automation definition;
 * - flowcontrol flows: its `flows` array, else those in its default export (a flow or an
 *   array, which may mix flows and automations), else every named export that is a flow;
 * - triggers: its `triggers` array (names or `{ name, label?, description? }`) and the
 *   triggers its flows name;
 * - sync: its `sync` export (`SyncOptions`, what browsers may do through `/automations`);
 * - authenticate: its `authenticate` export (used by `wayflow serve` when no other is given).
 * Throws `AutomationsModuleError` when the module cannot be imported or exports neither an
 * automation nor a flow.
 */
export async function loadAutomationModule(modulePath: string, cwd: string = process.cwd()): Promise<AutomationModule> {
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(resolve(cwd, modulePath)).href)) as Record<string, unknown>;
  } catch (cause) {
    throw new AutomationsModuleError(modulePath, `importing it failed (${cause instanceof Error ? cause.message : String(cause)})`, cause);
  }
  const fromDefault = Array.isArray(module.default) ? (module.default as unknown[]) : isDefinition(module.default) || isFlow(module.default) ? [module.default] : null;
  if (fromDefault?.some((value) => !isDefinition(value) && !isFlow(value))) {
    throw new AutomationsModuleError(modulePath, 'its default export holds something that is neither an automation definition nor a flowcontrol flow');
  }
  const named = Object.values(module);

  let automations: unknown[];
  if (Array.isArray(module.automations)) {
    automations = module.automations;
    if (!automations.every(isDefinition)) throw new AutomationsModuleError(modulePath, 'its automation list holds something that is not an automation definition');
  } else {
    const defaults = fromDefault?.filter(isDefinition) ?? [];
    automations = defaults.length > 0 ? defaults : named.filter(isDefinition);
  }
  let flows: unknown[];
  if (Array.isArray(module.flows)) {
    flows = module.flows;
    if (!flows.every(isFlow)) throw new AutomationsModuleError(modulePath, 'its "flows" list holds something that is not a flowcontrol flow ({ name, actions })');
  } else {
    const defaults = fromDefault?.filter(isFlow) ?? [];
    flows = defaults.length > 0 ? defaults : named.filter(isFlow);
  }

  const automationsByName = new Map<string, AutomationDefinition>();
  collect(modulePath, 'automations', automations as AutomationDefinition[], automationsByName);
  const flowsByName = new Map<string, FlowDefinition>();
  collect(modulePath, 'flows', flows as FlowDefinition[], flowsByName);
  if (automationsByName.size === 0 && flowsByName.size === 0) {
    throw new AutomationsModuleError(modulePath, 'it exports no automation definition and no flowcontrol flow');
  }
  const loadedFlows = [...flowsByName.values()];
  const loaded: AutomationModule = { automations: [...automationsByName.values()], flows: loadedFlows, triggers: triggersOf(modulePath, module.triggers, loadedFlows) };
  if (module.sync !== undefined) {
    if (typeof module.sync !== 'object' || module.sync === null || Array.isArray(module.sync)) {
      throw new AutomationsModuleError(modulePath, 'its "sync" export is not an object of sync options ({ automations: { Name: { start, expose, messages } } })');
    }
    const syncAutomations = (module.sync as SyncOptions).automations ?? {};
    for (const name of Object.keys(syncAutomations)) {
      if (!automationsByName.has(name)) throw new AutomationsModuleError(modulePath, `its "sync" options name automation "${name}", which it does not export`);
    }
    loaded.sync = module.sync as SyncOptions;
  }
  if (module.authenticate !== undefined) {
    if (typeof module.authenticate !== 'function') throw new AutomationsModuleError(modulePath, 'its "authenticate" export is not a function (request) => user | null');
    loaded.authenticate = module.authenticate as Authenticate;
  }
  return loaded;
}

/** Imports the module and returns its automation definitions (see `loadAutomationModule`; empty when it exports only flows). */
export async function loadAutomations(modulePath: string, cwd: string = process.cwd()): Promise<AutomationDefinition[]> {
  return (await loadAutomationModule(modulePath, cwd)).automations;
}
