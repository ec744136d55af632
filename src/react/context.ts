import { createContext } from 'react';
import type { OpenTaskOptions } from '../persist/index.ts';
import type { TaskBinding } from './hooks.ts';

/** What `WayflowProvider` hands down: how tasks are opened (store, binder, clock, user, URL parameter…). */
export type WayflowConfig = Partial<Omit<OpenTaskOptions, 'data'>>;

export const ConfigContext = createContext<WayflowConfig | null>(null);
/** The binding of the nearest `TaskProvider`'s task: its one subscription, shared by the components below. */
export const TaskContext = createContext<TaskBinding | undefined>(undefined);
