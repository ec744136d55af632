/** The tasks API (`/tasks/*`): a Hono sub-app `createApp` mounts behind its middleware. */
export { type TasksRoutesOptions, type TasksType, tasksRoutes } from './routes.ts';
