export {
  AutomationDashboard,
  AutomationFormTask,
  AutomationInstance,
  AutomationTaskList,
  AwaitAutomationView,
  type InstanceMapProps,
  StartAutomationView,
  useAutomationStatus,
  useFollowAutomations,
} from './components.tsx';
export { AutomationMap, type LiveMapProps } from './live-map.tsx';
export { type AutomationMessages, automationMessages, useAutomationMessages, useSyncErrorMessage } from './messages.ts';
