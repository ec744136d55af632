import type { TestProject } from 'vitest/node';
import { provideTestServices } from '../global-setup.ts';

/** The end-to-end run's global set-up: the database and the browser. */
export default (project: TestProject) => provideTestServices(project, { browser: true });
