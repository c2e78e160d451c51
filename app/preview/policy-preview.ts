/**
 * The policy preview: when a pull request to the default branch changes the policy or a CODEOWNERS
 * file, the App posts a `jit: policy` check run on its head with the new file's problems and
 * warnings at their lines, and the decisions before and after the change side by side, for the
 * situations the policies name and for the repository's recent requests replayed on their facts.
 * An invalid new policy concludes `failure`, so a ruleset that requires the check keeps it out.
 *
 * It only shows: nothing the pull request's files say is used for a decision. What they say (names,
 * values, keys, the problems and warnings that quote them) is the pull request author's, so it is
 * shown as code, where it can neither link, ping, embed nor pose as the App's own lines.
 */
import type { Context } from 'probot';
import { CODEOWNERS_LOCATIONS, type CodeownersError } from '../../policies/codeowners.js';
import { AS_WRITTEN, beyondSituationsTable, comparePolicies, compareWindows, comparisonTable, namedSituations, rulesBeyondSituations, windowTable, type PolicyVersion, type Situation } from '../../policies/compare.js';
import { DEFAULT_POLICY_PATH } from '../../policies/loader.js';
import type { RequestFacts } from '../../policies/types.js';
import { repositoryNow } from '../gate/gate.js';
import { loadPolicyInputs, type OwnFileNote, type PolicyInputs } from '../gate/policy-source.js';
import type { CheckRunAnnotation, CheckRunContent, GitHubClient, RepoCoordinates, WriteTarget } from '../github/github.js';
import type { Installations } from '../github/installations.js';
import { isNotFound } from '../github/octokit-client.js';
import { fitDocument, LIMITS, shorten } from '../render/limits.js';
import { inlineCode, oneLine } from '../render/untrusted.js';
import { PREVIEW_JOB, type ApprovalRequest, type ClaimedTimer, type Store } from '../store/store.js';

export const POLICY_CHECK_NAME = 'jit: policy';
/** GitHub takes at most 50 annotations in one request; more go in updates, which add to them. */
const ANNOTATIONS_PER_REQUEST = 50;
/** Warnings listed in the summary (all of them are annotations); the rest of the summary is the table. */
const WARNINGS_SHOWN = 20;
/** Rules the situations cannot judge, listed in the summary; the title counts them all. */
const UNJUDGED_SHOWN = 20;
/** Recent requests replayed on the new policy. */
const RECORDED_SITUATIONS = 20;
const WATCHED = new Set<string>([DEFAULT_POLICY_PATH, ...CODEOWNERS_LOCATIONS]);
/** A value a policy wrote, quoted in the summary (a window's message, a problem), is cut to this many characters. */
const QUOTED_MAX = 1_000;
/** What the pull request's files say, as code: see the module's comment. */
const quote = (text: string): string => inlineCode(text, QUOTED_MAX);
/**
 * A warning listed above the tables is cut shorter (its annotation has it whole): twenty long ones, in
 * wide characters, would otherwise crowd the decisions table, a loosened rule's row with it, out of the summary.
 */
const quoteWarning = (text: string): string => inlineCode(text, 300);

export interface PolicyPreviewOptions {
  store: Store;
  installations: Installations;
  appUrl: string;
  /** The notifier names configured on the App that the policies of an account's repositories may name. */
  notifiersFor: (owner: string) => ReadonlySet<string>;
  extendsRepositories?: readonly string[];
  /** The App's clock: freezes and deploy windows are judged as they stand now. */
  clock?: () => number;
}

type PullRequestEvent = Context<'pull_request.opened' | 'pull_request.synchronize' | 'pull_request.reopened'>;

/** What the preview of one pull request head needs, queued in the outbox. */
interface PreviewJob {
  installationId: number;
  owner: string;
  repo: string;
  repositoryId: string;
  number: number;
  headSha: string;
}

/** The webhook only queues the preview (the outbox runs it), so it is answered at once. */
export function handlePolicyPreview(store: Store, clock: () => number = Date.now) {
  return async (context: PullRequestEvent): Promise<void> => {
    const { pull_request: pull, repository, installation } = context.payload;
    // Only the default branch's policy gates anything; a change to another branch's copy changes nothing.
    if (!installation || pull.base.ref !== repository.default_branch) return;
    const job: PreviewJob = {
      installationId: installation.id,
      owner: repository.owner.login,
      repo: repository.name,
      repositoryId: String(repository.id),
      number: pull.number,
      headSha: pull.head.sha,
    };
    await store.scheduleTimer({ kind: PREVIEW_JOB, key: `${PREVIEW_JOB}:${job.repositoryId}:${job.headSha}`, dueAt: new Date(clock()), payload: job });
  };
}

/** The outbox's handler for a queued preview. */
export function runPolicyPreview(options: PolicyPreviewOptions) {
  return async (queued: ClaimedTimer): Promise<void> => {
    const job = queued.payload as unknown as PreviewJob;
    const github = await options.installations.client(job.installationId);
    const repo = await repositoryOf(github, job);
    if (!repo) return;
    const { files } = await github.pullRequestFiles(repo, job.number);
    if (!files.some((file) => WATCHED.has(file))) return;
    const externalId = `policy-preview:${job.headSha}`;
    // A redelivery, a reopened pull request at the same head, or an attempt whose answer was lost: previewed already.
    if (await github.findCheckRun(repo, job.headSha, POLICY_CHECK_NAME, externalId)) return;

    const sources = { knownNotifiers: options.notifiersFor(job.owner), extendsRepositories: options.extendsRepositories };
    // Before: the policy decisions use now, at the default branch's head commit. Its name could be a
    // tag's too (a bare name is a tag before a branch), and anyone who may push may tag.
    const [before, after] = await Promise.all([
      github.defaultBranchHead(repo).then((head) => loadPolicyInputs(github, repo, head, sources)),
      loadPolicyInputs(github, repo, job.headSha, sources),
    ]);
    const recorded = await options.store.listRecentRequests(job.repositoryId, RECORDED_SITUATIONS);
    const content = previewContent({ before, after, recorded, headSha: job.headSha, externalId, detailsUrl: options.appUrl, at: (options.clock ?? Date.now)() });
    // The preview waits its turn among the installation's writes: a rename meanwhile, and another
    // repository at the old name, stop it, and the outbox's retry finds the repository under its new name.
    const beforeSending = async () => {
      await repositoryNow(github, { repositoryId: job.repositoryId }, repo);
    };
    await publish(github, { ...repo, beforeSending }, content, [...annotationsOf(after.notes), ...skippedLineAnnotations(after)]);
  };
}

/**
 * The previewed repository as GitHub names it now, by its id: the job's name leads to it after a rename
 * until another repository takes that name, whose pull request and policy would be read, and written
 * on, instead. None when the installation no longer reaches it.
 */
async function repositoryOf(github: GitHubClient, job: PreviewJob): Promise<RepoCoordinates | undefined> {
  const named = await github.repository({ owner: job.owner, repo: job.repo }).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  if (named?.id === job.repositoryId) return { owner: named.owner, repo: named.repo };
  const found = (await github.installationRepositories()).find((r) => r.id === job.repositoryId);
  return found && { owner: found.owner, repo: found.repo };
}

interface PreviewInput {
  before: PolicyInputs;
  after: PolicyInputs;
  recorded: readonly ApprovalRequest[];
  headSha: string;
  externalId: string;
  detailsUrl: string;
  /** The instant freezes and deploy windows are judged at. */
  at: number;
}

function version(inputs: PolicyInputs): PolicyVersion | null {
  return inputs.ok ? { policy: inputs.policy, codeowners: inputs.codeowners } : null;
}

/** Recorded requests with the facts they were decided on (older ones recorded none). */
function recordedSituations(requests: readonly ApprovalRequest[]): Situation[] {
  return requests.flatMap((request) => {
    const facts = (request.facts as { evaluated?: RequestFacts }).evaluated;
    if (!facts) return [];
    const where = facts.environment ? ` to ${facts.environment}` : '';
    return [{ label: `request ${request.id.slice(0, 8)} (run ${request.runId}): ${request.action}${where}`, facts, source: 'recorded' as const }];
  });
}

export function previewContent(input: PreviewInput): CheckRunContent {
  const { before, after } = input;
  const base = { name: POLICY_CHECK_NAME, headSha: input.headSha, externalId: input.externalId, detailsUrl: input.detailsUrl, buttons: [] };
  if (!after.ok) {
    const summary = fitDocument(
      {
        head: [[`The policy on this pull request is invalid: nothing would be approved under it. Fix the ${after.problems.length === 1 ? 'problem' : `${after.problems.length} problems`} below (also shown at their lines).`, '']],
        middle: after.problems.map((problem) => [`- ${located(problem)}`]),
        tail: [],
      },
      LIMITS.checkRunOutput,
    );
    return { ...base, conclusion: 'failure', title: shorten(oneLine(`Invalid policy: ${after.problems[0] ?? 'see the summary'}`), LIMITS.checkRunTitle.max, LIMITS.checkRunTitle.measure), summary };
  }
  const newVersion = version(after)!;
  const oldVersion = version(before);
  const situations = [...namedSituations([...(oldVersion ? [oldVersion.policy] : []), newVersion.policy]), ...recordedSituations(input.recorded)];
  const comparisons = comparePolicies(oldVersion, newVersion, situations, input.at, quote);
  const counts = countChanges(comparisons.map((c) => c.change));
  // A freeze on no day of the comparison changes no decision above, so windows are compared as written.
  const windows = compareWindows(oldVersion?.policy ?? null, newVersion.policy, quote);
  const windowCounts = countChanges(windows.map((w) => w.effect));
  const unjudged = rulesBeyondSituations(oldVersion?.policy ?? null, newVersion.policy);
  const warnings = [
    ...after.warnings.map((warning) => located(warning, quoteWarning)),
    ...skippedLines(after).map((error) => `${error.path}:${error.line}:${error.column}: ${SKIPPED_LINE}: ${skippedLineDetail(error, quoteWarning)}`),
  ];
  // The warnings first (they are about this file), then the rules the tables cannot judge, then the
  // tables, whose rows a cut leaves out from the end: the windows' rows first, as they change decisions
  // at times the comparison was not made for.
  const [tableHead, tableRule, ...tableRows] = comparisonTable(comparisons).split('\n');
  const decisionsHeading = [oldVersion ? 'Decisions before and after this change:' : 'The default branch has no valid policy; decisions under this one:', ''];
  const decisionsTableHead = tableRule === undefined ? [tableHead] : [tableHead, tableRule];
  const [windowHead, windowRule, ...windowRows] = windowTable(windows).split('\n');
  const summary = fitDocument(
    {
      head: [
        ...(warnings.length > 0
          ? [
              ['**Warnings** (shown at their lines too)', ''],
              ...warnings.slice(0, WARNINGS_SHOWN).map((warning) => [`- ${warning}`]),
              warnings.length > WARNINGS_SHOWN ? [`- … and ${warnings.length - WARNINGS_SHOWN} more, at their lines`, ''] : [''],
            ]
          : []),
        // Never cut: what the tables below cannot show. Past a few, only counted, so that a pull request
        // adding hundreds of such rules cannot push the summary past GitHub's limit and the preview away.
        ...(unjudged.length > 0
          ? [[
              ...beyondSituationsTable(unjudged.slice(0, UNJUDGED_SHOWN)).split('\n'),
              ...(unjudged.length > UNJUDGED_SHOWN ? ['', `… and ${unjudged.length - UNJUDGED_SHOWN} more rules to read in the file`] : []),
              '',
            ]]
          : []),
        ...(windows.length > 0 ? [['Freezes and deploy windows added, removed or changed (whatever the time):', ''], [windowHead, windowRule]] : [decisionsHeading, decisionsTableHead]),
      ],
      middle: [
        ...(windows.length > 0 ? [...windowRows.map((row) => [row]), ['', ...decisionsHeading, ...decisionsTableHead]] : []),
        ...tableRows.map((row) => [row]),
      ],
      tail: [],
    },
    LIMITS.checkRunOutput,
  );
  const decisions = counts.changed === 0 ? 'no decision changes' : `${counts.changed} decision${counts.changed === 1 ? '' : 's'} change (${counts.describe})`;
  const windowText = windowCounts.changed === 0 ? '' : `; ${windowCounts.changed} freeze or deploy window change${windowCounts.changed === 1 ? '' : 's'} (${windowCounts.describe})`;
  const unjudgedText = unjudged.length === 0 ? '' : `; ${unjudged.length} rule change${unjudged.length === 1 ? '' : 's'} to read (the situations cannot show ${unjudged.length === 1 ? 'it' : 'them'})`;
  const title = `Valid policy; ${decisions}${windowText}${unjudgedText}`;
  return { ...base, conclusion: 'success', title, summary };
}

function countChanges(changes: readonly string[]): { changed: number; describe: string } {
  const tally = new Map<string, number>();
  for (const change of changes) if (change !== 'same') tally.set(change, (tally.get(change) ?? 0) + 1);
  return { changed: [...tally.values()].reduce((a, b) => a + b, 0), describe: [...tally].map(([change, n]) => `${n} ${change}`).join(', ') };
}

function annotationsOf(notes: readonly OwnFileNote[]): CheckRunAnnotation[] {
  return notes.map((note) => ({
    path: DEFAULT_POLICY_PATH,
    startLine: note.line,
    endLine: note.line,
    level: note.level,
    title: note.level === 'failure' ? 'Policy error' : 'Policy warning',
    message: shorten(note.message, 64 * 1024, LIMITS.checkRunOutput.measure),
  }));
}

/**
 * CODEOWNERS lines GitHub skips (a GitLab `[Section]`, a `!` negation, an owner it cannot read): the
 * App skips them too, so the owners they name are never asked, and a policy author sees it here.
 */
function skippedLines(inputs: PolicyInputs): CodeownersError[] {
  return inputs.ok && inputs.codeowners ? [...inputs.codeowners.errors] : [];
}

const SKIPPED_LINE = 'CODEOWNERS line skipped, as GitHub skips it, so nobody it names is asked as a code owner';

/** For an annotation, which GitHub shows as plain text. */
function skippedLineText(error: CodeownersError): string {
  return `${SKIPPED_LINE}: ${skippedLineDetail(error, AS_WRITTEN)}`;
}

/** What is wrong with the line, which quotes it. */
function skippedLineDetail(error: CodeownersError, quoted: (text: string) => string): string {
  return `${quoted(error.message.split('\n')[0])}${error.suggestion ? ` (${quoted(error.suggestion)})` : ''}`;
}

/**
 * A `file:line:col: message` problem or warning: where, as it reads, when it is in a file the preview
 * watches; the message (which quotes the file) as code. Anything else is code as a whole.
 */
function located(problem: string, quoted: (text: string) => string = quote): string {
  const at = /^(.+?):(\d+):(\d+): /.exec(problem);
  if (!at || !WATCHED.has(at[1])) return quoted(problem);
  return `${at[0]}${quoted(problem.slice(at[0].length))}`;
}

function skippedLineAnnotations(inputs: PolicyInputs): CheckRunAnnotation[] {
  return skippedLines(inputs).map((error) => ({
    path: error.path,
    startLine: error.line,
    endLine: error.line,
    level: 'warning',
    title: 'CODEOWNERS line skipped',
    message: shorten(skippedLineText(error), 64 * 1024, LIMITS.checkRunOutput.measure),
  }));
}

/** Creates the check run with the first 50 annotations, and adds the rest 50 at a time. */
async function publish(github: GitHubClient, repo: WriteTarget, content: CheckRunContent, annotations: readonly CheckRunAnnotation[]): Promise<void> {
  const { id } = await github.createCheckRun(repo, { ...content, annotations: annotations.slice(0, ANNOTATIONS_PER_REQUEST) });
  for (let i = ANNOTATIONS_PER_REQUEST; i < annotations.length; i += ANNOTATIONS_PER_REQUEST) {
    await github.updateCheckRun(repo, id, { ...content, annotations: annotations.slice(i, i + ANNOTATIONS_PER_REQUEST) });
  }
}
