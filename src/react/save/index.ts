export { SaveStatus, useSaveState } from './save-status.tsx';
