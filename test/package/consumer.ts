// Type-checked against the built package through its own "exports" (see scripts/check-package.mjs).
import { action, defineFlow, outcome, startTask, type TaskState, WayflowError } from 'wayflow';
import { flowGraph, progressOf, toMermaid } from 'wayflow/graph';
import { indexedDbStore, memoryStore, openTask } from 'wayflow/persist';
import { FlowOutlet, useTask } from 'wayflow/react';
import { FlowRoutes } from 'wayflow/router';
import { defineAutomation } from 'wayflow/automations';
import { automationClient, awaitAutomation, SyncError } from 'wayflow/sync';
import { AutomationTaskList, useAutomationStatus } from 'wayflow/react/automations';
import { Checkbox, FileField, RadioGroup, Select, TextArea } from 'wayflow/react/fields';
import { SaveStatus, useSaveState } from 'wayflow/react/save';

const flow = defineFlow({ id: 'f', title: 'F', children: [action({ id: 'a', title: 'A', submit: () => outcome.complete({ done: true }) })] });
const task = await startTask(flow, { store: memoryStore() });
const state: TaskState = task.state;
const text: string = toMermaid(flow);
const total: number = progressOf(flow, state).total;
const edges: number = flowGraph(flow).edges.length;
const error: string = new WayflowError('x', 'y').code;
export const used = [text, total, edges, error, indexedDbStore, openTask, FlowOutlet, useTask, FlowRoutes, defineAutomation, automationClient, awaitAutomation, SyncError, AutomationTaskList, useAutomationStatus, Checkbox, FileField, RadioGroup, Select, TextArea, SaveStatus, useSaveState];
