export {
  AutomationDashboard,
  AutomationFormTask,
  AutomationInstance,
  AutomationTaskList,
  AwaitAutomationView,
  StartAutomationView,
  useAutomationStatus,
  useFollowAutomations,
} from './components.tsx';
export { AutomationMap } from './live-map.tsx';
export { type AutomationMessages, automationMessages, useAutomationMessages, useSyncErrorMessage } from './messages.ts';
