/** `mercurial-jit explain`: evaluate a policy for the facts given on the command line. */
import { CODEOWNERS_LOCATIONS } from '../../policies/codeowners.js';
import { evaluate } from '../../policies/evaluate.js';
import { DEFAULT_POLICY_PATH } from '../../policies/loader.js';
import type { RequestFacts } from '../../policies/types.js';
import { formatDecision } from './format-decision.js';
import { EXIT, FORMAT_OPTION, HELP_OPTION, UsageError, formatOf, instantOption, parseCommandArgs, readTextInput, writeJson, type CliIo } from './io.js';
import { loadCodeownersFile, repositoryPath } from './load-codeowners.js';
import { loadPolicyFile } from './load-policy.js';

export const EXPLAIN_USAGE = `Usage: mercurial-jit explain --policy FILE [--extends ORG_FILE] [--codeowners FILE] --action A
         [--environment E] [--branch B] [--target-branch B] [--unapproved-base B] [--severity S] [--event E]
         [--actor U] [--rerun-by U] [--labels a,b] [--files a,b | --files-from FILE | --unknown-changes WHY]
         [--at TIME] [--format json|text]

Prints the decision for one request: no approval needed, or the requirements; which rules
matched and why, which did not and why; who may approve (code owners per group of changed
files, teams, users and roles, before expansion); the freezes and deploy windows that apply,
and when the request may next go ahead.

  --policy FILE         the policy (for example ${DEFAULT_POLICY_PATH})
  --extends ORG_FILE    the org policy named by the policy's _extends
  --codeowners FILE     the CODEOWNERS file (without it, no file has a code owner)
  --action A            the step's action input (required)
  --environment E       deployment environment
  --branch B            the run's branch (a pull request's head branch)
  --target-branch B     a pull request's base branch
  --unapproved-base B   the base branch, when a pull request's merge also ships changes of it that
                        no approved request covered: a branch condition that loosens the gate must
                        then hold for it too
  --severity S          one of the policy's severities (without it: defaults.severity, else none, and
                        every severity condition that tightens the gate holds)
  --event E             the triggering event, e.g. push, pull_request, workflow_dispatch
  --actor U             who started the run
  --rerun-by U          who re-ran it, where that is someone else (repeat for several)
  --labels a,b          pull request labels, comma-separated
  --files a,b           changed files, comma-separated
  --files-from FILE     changed files, one per line
  --unknown-changes WHY the changed files are not known (the App's case after a force push or on a
                        first run): path conditions then hold for rules that require approval only
  --at TIME             judge freezes and deploy windows at this instant, ISO 8601 with a zone
                        (2026-12-24T18:00:00Z or 2026-12-24T19:00:00+01:00), or a wall-clock
                        time in a time zone (2026-12-24T19:00[Europe/Berlin]); default: now
  --format FORMAT       json (default) or text
`;

export async function explainCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs({
    args: argv,
    options: {
      policy: { type: 'string' },
      extends: { type: 'string' },
      codeowners: { type: 'string' },
      action: { type: 'string' },
      environment: { type: 'string' },
      branch: { type: 'string' },
      'target-branch': { type: 'string' },
      'unapproved-base': { type: 'string' },
      severity: { type: 'string' },
      event: { type: 'string' },
      actor: { type: 'string' },
      'rerun-by': { type: 'string', multiple: true },
      labels: { type: 'string' },
      files: { type: 'string' },
      'files-from': { type: 'string' },
      'unknown-changes': { type: 'string' },
      at: { type: 'string' },
      ...FORMAT_OPTION,
      ...HELP_OPTION,
    },
  });
  if (values.help) {
    io.stdout(EXPLAIN_USAGE);
    return EXIT.ok;
  }
  if (values.policy === undefined) throw new UsageError('--policy FILE is required');
  if (values.action === undefined || values.action === '') throw new UsageError('--action A is required');
  if ([values.files, values['files-from'], values['unknown-changes']].filter((v) => v !== undefined).length > 1) {
    throw new UsageError('give one of --files, --files-from and --unknown-changes');
  }
  const format = formatOf(values.format);
  const at = instantOption(values.at);

  let changedFiles = commaList(values.files) ?? [];
  if (values['files-from'] !== undefined) {
    const read = await readTextInput(io, values['files-from']);
    if (!read.ok) {
      io.stderr(`${read.message}\n`);
      return EXIT.invalidInput;
    }
    changedFiles = read.text.split(/\r?\n/).filter((line) => line.trim() !== '');
  }

  // explain prints no warnings (validate does), so the lint that finds them is skipped.
  const loaded = await loadPolicyFile(io, values.policy, values.extends, 'error', false);
  const codeowners = values.codeowners === undefined ? undefined : await loadCodeownersFile(io, values.codeowners);
  if (!loaded.ok || (codeowners && !codeowners.ok)) return EXIT.invalidInput;

  const facts: RequestFacts = {
    action: values.action,
    ...optional('environment', values.environment),
    ...optional('branch', values.branch),
    ...optional('targetBranch', values['target-branch']),
    ...optional('unapprovedBase', values['unapproved-base']),
    ...optional('severity', values.severity),
    ...optional('event', values.event),
    ...optional('actor', values.actor),
    ...(values['rerun-by'] !== undefined ? { rerunBy: values['rerun-by'] } : {}),
    ...(values.labels !== undefined ? { labels: commaList(values.labels) } : {}),
    changedFiles: changedFiles.map(repositoryPath),
    ...optional('unknownChanges', values['unknown-changes']),
  };
  const decision = evaluate(loaded.policy, facts, { codeowners: codeowners?.codeowners, now: at });
  if (codeowners === undefined && decision.codeowners) {
    // Run in a repository that has a CODEOWNERS file, "no changed file has a code owner" would read as the App's verdict.
    io.stderr(`mercurial-jit explain: no --codeowners FILE given, so no changed file has a code owner here; the App reads the repository's CODEOWNERS (${CODEOWNERS_LOCATIONS.slice(0, -1).join(', ')} or ${CODEOWNERS_LOCATIONS.at(-1)}): pass it, e.g. --codeowners ${CODEOWNERS_LOCATIONS[0]}\n`);
  }
  if (format === 'json') writeJson(io, decision);
  else io.stdout(formatDecision(decision));
  return codeowners?.hasErrors ? EXIT.invalidInput : EXIT.ok;
}

function commaList(value: string | undefined): string[] | undefined {
  return value?.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined || value === '' ? {} : ({ [key]: value } as Record<K, string>);
}
