#!/usr/bin/env node
// The CLI is compiled and bundled to build/cli/ by `npm run build` (run automatically by `npm ci`
// through `prepare`): `explain` then opens 9 JavaScript files instead of 110.
import { main } from '../build/cli/main.js';

process.exitCode = await main(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  stdoutBytes: (chunk) => process.stdout.write(chunk),
  cwd: process.cwd(),
});
