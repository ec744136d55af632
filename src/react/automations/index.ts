export {
  AutomationDashboard,
  AutomationFormTask,
  AutomationInstance,
  AutomationTaskList,
  AwaitAutomationView,
  useAutomationStatus,
  useFollowAutomations,
} from './components.tsx';
