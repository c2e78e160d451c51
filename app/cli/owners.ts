/** `mercurial-jit owners --codeowners FILE PATH...`: who owns each path, with GitHub's semantics. */
import { EXIT, FORMAT_OPTION, HELP_OPTION, UsageError, formatOf, json, parseCommandArgs, type CliIo } from './io.js';
import { loadCodeownersFile, repositoryPath } from './load-codeowners.js';

export const OWNERS_USAGE = `Usage: mercurial-jit owners --codeowners FILE [--format json|text] PATH...

Prints the owners of each PATH as CODEOWNERS assigns them on GitHub (last matching line wins;
a line with no owners un-owns). JSON: { "PATH": ["@owner", ...] }, [] when unowned.
Errors in the CODEOWNERS file are printed on stderr; those lines are skipped, as GitHub does.

  --codeowners FILE  the CODEOWNERS file
  --format FORMAT    json (default) or text
`;

export async function ownersCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args: argv,
    allowPositionals: true,
    options: { codeowners: { type: 'string' }, ...FORMAT_OPTION, ...HELP_OPTION },
  });
  if (values.help) {
    io.stdout(OWNERS_USAGE);
    return EXIT.ok;
  }
  if (values.codeowners === undefined) throw new UsageError('--codeowners FILE is required');
  if (positionals.length === 0) throw new UsageError('give at least one PATH');
  const format = formatOf(values.format);

  const loaded = await loadCodeownersFile(io, values.codeowners);
  if (!loaded.ok) return EXIT.invalidInput;
  // fromEntries defines own properties, so a path such as `__proto__` is printed like any other.
  const entries: [string, string[]][] = [];
  const lines: string[] = [];
  for (const path of positionals) {
    const match = loaded.codeowners.ownersOf(repositoryPath(path));
    entries.push([path, [...match.owners]]);
    const where = match.rule ? `  (line ${match.rule.line}: ${match.rule.pattern})` : '';
    lines.push(`${path}  ${match.owners.length > 0 ? match.owners.join(' ') : '(unowned)'}${where}\n`);
  }
  io.stdout(format === 'json' ? json(Object.fromEntries(entries)) : lines.join(''));
  return loaded.hasErrors ? EXIT.invalidInput : EXIT.ok;
}
