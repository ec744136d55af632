export { FunnelUsageError, funnelCli } from './cli.ts';
export { type FunnelFigures, type FunnelTask, type FunnelWindow, funnelsOf, shapeFunnel, type TaskFacts, tagsOf, taskFacts } from './model.ts';
export { FunnelForbiddenError, type FunnelRoutesOptions, type FunnelsType, funnelRoutes } from './routes.ts';
export { readFunnels } from './sql.ts';
export { formatFunnel, formatSpan } from './text.ts';
export { funnelWindow, parseInstant } from './window.ts';
