#!/usr/bin/env node
// The `wayflow` command: checks that the server's optional packages are installed before
// loading the program that imports them, so a missing one is named with the command that
// installs it instead of failing with Node's "Cannot find package".
import { ServerPackagesMissingError, requireServerPackages } from './requirements.ts';

try {
  requireServerPackages();
} catch (error) {
  if (!(error instanceof ServerPackagesMissingError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
const { runProgram } = await import('./cli.js');
runProgram();
