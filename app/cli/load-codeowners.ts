/** Reads and parses a CODEOWNERS file; its errors go to stderr as `FILE:LINE:COL: message`. */
import { parseCodeowners, type Codeowners } from '../../policies/codeowners.js';
import { readTextInput, type CliIo } from './io.js';

export type LoadedCodeowners = { ok: true; codeowners: Codeowners; hasErrors: boolean } | { ok: false };

export async function loadCodeownersFile(io: CliIo, file: string): Promise<LoadedCodeowners> {
  const read = await readTextInput(io, file);
  if (!read.ok) {
    io.stderr(`${read.message}\n`);
    return { ok: false };
  }
  const codeowners = parseCodeowners(read.text, file);
  for (const e of codeowners.errors) io.stderr(`${file}:${e.line}:${e.column}: ${e.message}\n`);
  return { ok: true, codeowners, hasErrors: codeowners.errors.length > 0 };
}

/** CODEOWNERS paths are repository-relative without a leading `/` or `./`. */
export function repositoryPath(path: string): string {
  return path.replace(/^(?:\.\/|\/)+/, '');
}
