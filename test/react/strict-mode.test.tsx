// @vitest-environment jsdom
import { cleanup, render } from '@testing-library/react';
import { useEffect } from 'react';
import { afterEach, describe, expect, it } from 'vitest';

afterEach(cleanup);

describe('the React and router tests', () => {
  it('render under StrictMode (test/setup.ts), so each effect mounts, unmounts and mounts again', () => {
    const runs: string[] = [];
    function Probe() {
      useEffect(() => {
        runs.push('mount');
        return () => {
          runs.push('unmount');
        };
      }, []);
      return null;
    }
    render(<Probe />);
    expect(runs).toEqual(['mount', 'unmount', 'mount']);
  });
});
