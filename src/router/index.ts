export { FlowLink, FlowRoutes } from './flow-routes.tsx';
export type { FlowRoutesProps } from './flow-routes.tsx';
