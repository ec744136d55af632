#!/usr/bin/env node
/**
 * Program entry for the automation commands alone (`node main.js step --automations …`),
 * e.g. bundled for a scheduler process; `wayflow` dispatches to the same functions.
 */
import { WayflowError } from '../../core/index.ts';
import { AutomationUsageError, automationCli } from './cli.ts';

automationCli(process.argv.slice(2)).then(
  (result) => {
    if (!result || !('stop' in result)) return;
    const shutdown = () => {
      result.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof WayflowError ? error.message : `wayflow: ${error instanceof Error ? error.message : String(error)}`}\n`);
    process.exit(error instanceof AutomationUsageError ? 2 : 1);
  },
);
