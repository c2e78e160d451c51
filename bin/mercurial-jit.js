#!/usr/bin/env node
// The CLI is compiled to build/ by `npm run build` (run automatically by `npm ci` through `prepare`).
import { main } from '../build/app/cli/main.js';

process.exitCode = await main(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  stdoutBytes: (chunk) => process.stdout.write(chunk),
  cwd: process.cwd(),
});
