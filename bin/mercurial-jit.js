#!/usr/bin/env node
// The CLI is compiled and bundled to build/cli/ by `npm run build` (run automatically by `npm ci`
// through `prepare`): `explain` then opens 9 JavaScript files instead of 110.
import { readFileSync } from 'node:fs';
import { main } from '../build/cli/main.js';

// A reader that stops early (`mercurial-jit explain … | head`) closes the pipe: end quietly, with the
// status a shell reports for a command ended by SIGPIPE (128 + 13), never a stack trace or a 0.
process.stdout.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(141);
});

process.exitCode = await main(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  stdoutBytes: (chunk) => process.stdout.write(chunk),
  cwd: process.cwd(),
  // Read only when asked for: every other command starts without it.
  get version() {
    return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
  },
});
