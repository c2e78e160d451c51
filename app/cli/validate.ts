/** `mercurial-jit validate [FILE]`: check a policy file; `FILE:LINE:COL: message` per problem. */
import { DEFAULT_POLICY_PATH, formatDiagnostic } from '../../policies/loader.js';
import { EXIT, FORMAT_OPTION, HELP_OPTION, UsageError, formatOf, json, parseCommandArgs, type CliIo } from './io.js';
import { loadPolicyFile } from './load-policy.js';

export const VALIDATE_USAGE = `Usage: mercurial-jit validate [FILE] [--extends ORG_FILE] [--strict] [--format json|text]

Checks a policy file (default ${DEFAULT_POLICY_PATH}) against the schema and the policy rules.
Problems are printed on stderr as FILE:LINE:COL: message, and so are warnings about what a valid
policy probably does not mean (each with the fix).

  --extends ORG_FILE  the org policy named by the file's _extends, to check the two together
                      (without it, an _extends is reported as a warning)
  --strict            treat warnings as problems: exit 1 when there are any
  --format FORMAT     json (default) or text
`;

export async function validateCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args: argv,
    allowPositionals: true,
    options: { extends: { type: 'string' }, strict: { type: 'boolean' }, ...FORMAT_OPTION, ...HELP_OPTION },
  });
  if (values.help) {
    io.stdout(VALIDATE_USAGE);
    return EXIT.ok;
  }
  if (positionals.length > 1) throw new UsageError(`validate takes one FILE, got ${positionals.length}`);
  const format = formatOf(values.format);
  const file = positionals[0] ?? DEFAULT_POLICY_PATH;

  const loaded = await loadPolicyFile(io, file, values.extends, 'warn');
  if (!loaded.ok) {
    if (format === 'json') io.stdout(json({ valid: false, file, diagnostics: loaded.diagnostics }));
    else io.stdout(`${file}: invalid (${loaded.diagnostics.length} problem${loaded.diagnostics.length === 1 ? '' : 's'})\n`);
    return EXIT.invalidInput;
  }
  const { policy, warnings } = loaded;
  for (const w of warnings) io.stderr(`${formatDiagnostic({ ...w, message: `warning: ${w.message}` })}\n`);
  const strictFailure = values.strict === true && warnings.length > 0;
  if (format === 'json') io.stdout(json({ valid: !strictFailure, file, rules: policy.rules.length, warnings }));
  else if (strictFailure) io.stdout(`${file}: invalid under --strict (${warnings.length} warning${warnings.length === 1 ? '' : 's'})\n`);
  else io.stdout(`${file}: valid (${policy.rules.length} rule${policy.rules.length === 1 ? '' : 's'}${warnings.length > 0 ? `, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}` : ''})\n`);
  return strictFailure ? EXIT.invalidInput : EXIT.ok;
}
