/**
 * What the test and benchmark set-up throws when it cannot provide a database or a browser:
 * `code` is stable, the message says what was tried and what to do.
 */
export class TestEnvironmentError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = 'TestEnvironmentError';
    this.code = code;
  }
}
