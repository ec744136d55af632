import { cleanup } from '@testing-library/react';
import { afterEach, beforeEach, vi } from 'vitest';

/**
 * Silences `console.error` around each test of the file (as a spy: `vi.mocked(console.error)`)
 * and cleans up the rendered trees after it: tests of plain user messages check that the
 * developer message went to the console instead, and how often.
 */
export function silenceConsoleErrors(): void {
  beforeEach(() => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => {
    cleanup();
    vi.mocked(console.error).mockRestore();
  });
}
