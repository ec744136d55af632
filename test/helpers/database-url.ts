import { inject } from 'vitest';

/**
 * The PostgreSQL the tests use, found or started once per run by the global set-up
 * (test/global-setup.ts). A database that stops answering fails the tests; none skips.
 */
export const DATABASE_URL = inject('databaseUrl');
