/** Reads a policy file (and the org file its `_extends` names, when given) and loads it. */
import { formatDiagnostic, loadPolicy, type LoadResult } from '../../policies/loader.js';
import { readInput, type CliIo } from './io.js';


/** A policy file's load; `unreadable` when a file could not be read at all (missing, a directory, …). */
export type PolicyFileResult = LoadResult & { unreadable?: true };

/** Prints every problem on stderr as `FILE:LINE:COL: message`. */
export async function loadPolicyFile(
  io: CliIo,
  file: string,
  extendsFile: string | undefined,
  unresolvedExtends: 'error' | 'warn',
  lint = true,
): Promise<PolicyFileResult> {
  const unreadable = (path: string, message: string): PolicyFileResult => {
    const diagnostic = { file: path, line: 1, col: 1, pointer: '', message };
    io.stderr(`${formatDiagnostic(diagnostic)}\n`);
    return { ok: false, diagnostics: [diagnostic], unreadable: true };
  };
  const text = await readInput(io, file);
  if (!text.ok) return unreadable(file, text.reason);
  let base: { file: string; text: Uint8Array } | undefined;
  if (extendsFile !== undefined) {
    const baseText = await readInput(io, extendsFile);
    if (!baseText.ok) return unreadable(extendsFile, baseText.reason);
    base = { file: extendsFile, text: baseText.bytes };
  }
  const result = loadPolicy(text.bytes, file, { base, unresolvedExtends, lint });
  if (!result.ok) for (const d of result.diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
  return result;
}
