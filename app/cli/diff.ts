/** `mercurial-jit diff`: what a policy change does, before it merges — the App's policy preview, offline. */
import { beyondSituationsTable, comparePolicies, compareWindows, comparisonTable, namedSituations, rulesBeyondSituations, windowTable } from '../../policies/compare.js';
import { EXIT, FORMAT_OPTION, HELP_OPTION, UsageError, formatOf, instantOption, json, parseCommandArgs, type CliIo } from './io.js';
import { loadCodeownersFile } from './load-codeowners.js';
import { loadPolicyFile } from './load-policy.js';

export const DIFF_USAGE = `Usage: mercurial-jit diff --before OLD.yml --after NEW.yml [--codeowners FILE]
         [--codeowners-after FILE] [--extends ORG_FILE] [--at TIME] [--format json|text]

Compares the decisions of two versions of a policy for each action × environment × severity they
name (path conditions judged as for an unknown change set, the worst case), and lists those that
become stricter, looser or blocked; lists the rules changed in ways those situations cannot show
(they read a branch, event, actor, labels, a glob of actions or environments or, to loosen the gate,
changed paths, which the situations leave out); and lists the freezes and deploy windows added,
removed or changed, whatever the time. Problems in either file are printed on stderr.

  --before FILE           the policy as it is (for example from the default branch)
  --after FILE            the policy as it would be
  --codeowners FILE       CODEOWNERS for both versions
  --codeowners-after FILE CODEOWNERS for the new version, when the change edits it too
  --extends ORG_FILE      the org policy both versions _extends
  --at TIME               judge the decisions at this instant, ISO 8601 with a zone, or a wall-clock
                          time in a time zone (2026-12-24T19:00[Europe/Berlin]); default: now
  --format FORMAT         json (default) or text (a Markdown table)

Exit codes: 0 the new policy is valid (whatever changed, and an old one that is invalid counts as
none); 1 it is invalid, or a file cannot be read (a mistyped --before too); 2 bad arguments.
`;

export async function diffCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs({
    args: argv,
    options: {
      before: { type: 'string' },
      after: { type: 'string' },
      codeowners: { type: 'string' },
      'codeowners-after': { type: 'string' },
      extends: { type: 'string' },
      at: { type: 'string' },
      ...FORMAT_OPTION,
      ...HELP_OPTION,
    },
  });
  if (values.help) {
    io.stdout(DIFF_USAGE);
    return EXIT.ok;
  }
  if (values.before === undefined || values.after === undefined) throw new UsageError('--before FILE and --after FILE are required');
  const format = formatOf(values.format);
  const at = instantOption(values.at);

  const before = await loadPolicyFile(io, values.before, values.extends, 'error');
  const after = await loadPolicyFile(io, values.after, values.extends, 'error');
  const owners = values.codeowners === undefined ? undefined : await loadCodeownersFile(io, values.codeowners);
  const ownersAfter = values['codeowners-after'] === undefined ? owners : await loadCodeownersFile(io, values['codeowners-after']);
  if ((owners && !owners.ok) || (ownersAfter && !ownersAfter.ok)) return EXIT.invalidInput;
  // An invalid old policy approved nothing, so every decision is new; one that cannot be read at all
  // is more likely a mistyped path than no policy, and comparing with nothing would hide that.
  if (!before.ok && before.unreadable) {
    io.stdout(format === 'json' ? json({ valid: false, file: values.before, diagnostics: before.diagnostics }) : `${values.before}: cannot read\n`);
    return EXIT.invalidInput;
  }
  if (!after.ok) {
    io.stdout(format === 'json' ? json({ valid: false, file: values.after, diagnostics: after.diagnostics }) : `${values.after}: invalid\n`);
    return EXIT.invalidInput;
  }
  const oldVersion = before.ok ? { policy: before.policy, codeowners: owners?.ok ? owners.codeowners : undefined } : null;
  const newVersion = { policy: after.policy, codeowners: ownersAfter?.ok ? ownersAfter.codeowners : undefined };
  const situations = namedSituations([...(oldVersion ? [oldVersion.policy] : []), newVersion.policy]);
  const comparisons = comparePolicies(oldVersion, newVersion, situations, at);
  const windows = compareWindows(oldVersion?.policy ?? null, newVersion.policy);
  const unjudged = rulesBeyondSituations(oldVersion?.policy ?? null, newVersion.policy);
  if (format === 'json') io.stdout(json({ valid: true, windows, comparisons, rulesBeyondSituations: unjudged }));
  else io.stdout([windowTable(windows), comparisonTable(comparisons), beyondSituationsTable(unjudged)].filter((part) => part !== '').join('\n\n') + '\n');
  return EXIT.ok;
}
