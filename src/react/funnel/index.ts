export { Funnel, funnelColumns } from './funnel.tsx';
