// Type-checked against the built package through its own "exports" (see scripts/check-package.mjs).
import { action, defineFlow, type FlowData, outcome, scaffold, type StepId, startTask, type TaskState, WayflowError } from 'wayflow';
import { flowGraph, progressOf, toMermaid } from 'wayflow/graph';
import { indexedDbStore, memoryStore, openTask } from 'wayflow/persist';
import { FlowOutlet, type StepViews, useTask } from 'wayflow/react';
import { FlowRoutes } from 'wayflow/router';
import { defineAutomation } from 'wayflow/automations';
import { automationClient, awaitAutomation, SyncError } from 'wayflow/sync';
import { AutomationTaskList, useAutomationStatus } from 'wayflow/react/automations';
import { Checkbox, FileField, RadioGroup, Select, TextArea } from 'wayflow/react/fields';
import { Funnel } from 'wayflow/react/funnel';
import { layoutGraph, type MapGraph, ProcessMap } from 'wayflow/react/map';
import { SaveStatus, useSaveState } from 'wayflow/react/save';

const flow = defineFlow({ id: 'f', title: 'F', children: [action({ id: 'a', title: 'A', submit: () => outcome.complete({ done: true }) })] });
const task = await startTask(flow, { store: memoryStore() });
const state: TaskState = task.state;
const text: string = toMermaid(flow);
const total: number = progressOf(flow, state).total;
const edges: number = flowGraph(flow).edges.length;
const error: string = new WayflowError('x', 'y').code;

// Types inferred from the definition, through the published declarations.
const schema = { '~standard': { version: 1, vendor: 'consumer', validate: (value: unknown) => ({ value: value as { name: string } }) } } as const;
const typed = defineFlow({
  id: 'typed',
  title: 'Typed',
  children: [
    action({ id: 'name', title: 'Name', schema }),
    scaffold({ id: 'kind', title: 'Kind', transitions: 'choice', children: [action({ id: 'personal', title: 'Personal' }), action({ id: 'business', title: 'Business' })] }),
    action({ id: 'pay', title: 'Pay', submit: () => outcome.complete({ total: 12 }) }),
  ],
});
const typedTask = await startTask(typed);
const name: string | undefined = typedTask.state.data.name?.name;
const kind: 'personal' | 'business' | undefined = typedTask.state.data.kind;
const paid: number | undefined = typedTask.state.data.total;
const data: FlowData<typeof typed> = typedTask.state.data;
const step: StepId<typeof typed> = 'personal';
// @ts-expect-error a step id the flow does not have
const misspelt: StepId<typeof typed> = 'persnal';
const views: StepViews<typeof typed> = { name: ({ task }) => task.data.name?.name ?? null };
const mapGraph: MapGraph = { nodes: [{ id: 'a', label: 'A' }], edges: [] };
const mapWidth: number = layoutGraph(mapGraph).width;
export const used = [mapWidth, ProcessMap, Funnel, name, kind, paid, data, step, misspelt, views, text, total, edges, error, indexedDbStore, openTask, FlowOutlet, useTask, FlowRoutes, defineAutomation, automationClient, awaitAutomation, SyncError, AutomationTaskList, useAutomationStatus, Checkbox, FileField, RadioGroup, Select, TextArea, SaveStatus, useSaveState];
