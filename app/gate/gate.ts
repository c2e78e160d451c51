/**
 * The request lifecycle: open (evaluate the policy against GitHub's facts), vote, cancel, expire.
 * Every path that cannot establish a decision fails closed: the request becomes `failed` with a
 * message saying what is wrong, never `approved`.
 *
 * Nothing here writes to GitHub: each change is committed to the store, which queues the request's
 * publication in the same transaction, and the outbox (`app/outbox/`) brings GitHub in line. So a
 * webhook is answered as soon as its effect is durable, and a crash never loses what to show.
 */
import type { Logger } from 'probot';
import { checkEligibility, overrideWithoutReason, sameLogin, tallyVotes, type ApprovalOptions, type Requester, type Vote, type Voter } from '../../policies/approval.js';
import type { Decision } from '../../policies/decision.js';
import { evaluate } from '../../policies/evaluate.js';
import { BUILT_IN_DEFAULTS } from '../../policies/loader.js';
import type { RequestFacts } from '../../policies/types.js';
import { untilText } from '../../policies/window-judgement.js';
import type { GitHubClient, RepoCoordinates } from '../github/github.js';
import type { Installations } from '../github/installations.js';
import { backoffMs, isTransient } from '../github/transient.js';
import type { RunIdentity } from '../oidc.js';
import { EVALUATE_JOB, type ApprovalRequest, type RequestKey, type HandledBy, type NewTimer, type PendingLimits, type Store, type Vote as StoredVote, type VoteChoice, type VoteResult } from '../store/store.js';
import { approverStrings } from '../notify/index.js';
import type { RequestNotifications } from './notifications.js';
import { loadPolicyInputs, PolicyCache, type PolicySourceOptions } from './policy-source.js';
import { countedVotes, DEPLOYMENT_ACTION, requestersOf, toGateVote, requestKeyFor, toGateRequest, type DeploymentFacts, type GateRequest, type RequestInput, type RunFacts } from './request.js';
import { addRequester, branchOfRef, loadRunContext, madeAsAttemptStarted, ofEarlierAttempt, rerunStarter, RunContextError, runStarters, withRunStarters, type RunCommit, type RunStarters } from './run-context.js';
import { listedTeams, LoginNamesAnotherAccount, lookUpVoter } from './voters.js';

export { DEPLOYMENT_ACTION, stillNamed, type DeploymentFacts, type GateRequest } from './request.js';
export { ofEarlierAttempt } from './run-context.js';

/** The actor recorded for what the App decides on its own. */
export const APP_ACTOR = 'app';
export const DEADLINE_TIMER = 'deadline';
export const ESCALATION_TIMER = 'escalation';
export const REMINDER_TIMER = 'reminder';
/** A freeze or deploy window in the request's scope changes: the request is decided again then. */
export const WINDOW_TIMER = 'window';

/** A GitHub failure that may pass: evaluation is retried (from the `evaluate` job) within the budget. */
export class TransientError extends Error {}

/** How long after opening a request its `evaluate` job falls due, should the first evaluation not finish. */
const EVALUATE_GRACE_MS = 10_000;
/** How long evaluation is retried through GitHub outages before the request fails closed. */
const DEFAULT_EVALUATION_BUDGET_MS = 10 * 60_000;
/**
 * How long after a request opens its repository's name, which came with the run's token, is taken
 * as it is; later, the name is looked up and must still lead to the request's repository id.
 */
const NAME_FROM_TOKEN_MS = 10_000;

export class InputError extends Error {}

/** A step reattached to its request with facts that differ from those the request was opened with. */
export class ConflictError extends Error {}

/**
 * Replies to one person's commands on one thread that did not count: at most `perPerson` within any
 * `windowMs`, the last saying so; the rest are only on record. Anyone who may comment could
 * otherwise fill a thread with replies and spend the installation's share of GitHub's limit on
 * content creation (80 a minute, 500 an hour).
 */
export const COMMAND_REPLIES = { perPerson: 5, windowMs: 60 * 60_000 } as const;

export interface GateOptions {
  store: Store;
  installations: Installations;
  log: Logger;
  /** How long evaluation is retried through transient GitHub failures (capped by the request's own timeout). */
  evaluationBudgetMs?: number;
  now?: () => Date;
  notifications: RequestNotifications;
  /** The notifier names configured on the App that the policies of an account's repositories may name. */
  notifiersFor: (owner: string) => ReadonlySet<string>;
  /** Repositories (`owner/name`) besides each owner's `.github` that policies may `_extends`. */
  extendsRepositories?: readonly string[];
  /** Called when a request reaches a final status, for metrics. */
  onCompleted?: (request: ApprovalRequest) => void;
  /** How many replies one person's commands that do not count get on a thread (default COMMAND_REPLIES). */
  commandReplies?: { perPerson: number; windowMs: number };
}

export interface Voting {
  requestId: string;
  /** The request as the caller read it a moment ago, so it is not read again; its vote is still counted under the row's lock. */
  read?: ApprovalRequest;
  /** The votes standing when `read` was read, with it: the earlier approvers looked up again before this vote completes the request. */
  readVotes?: readonly StoredVote[];
  login: string;
  /** The webhook sender's account id and type, when the event carried them. */
  senderId?: string;
  senderType?: string;
  choice: VoteChoice;
  note: string;
  via: 'comment' | 'button' | 'dashboard';
  /** For a comment: its id (so it can be withdrawn by deleting it) and when GitHub says it was created. */
  comment?: { id: number; createdAt: string };
  /** The delivery (and comment) this vote comes from, marked done with the vote, or with the record of why it did not count. */
  handledBy?: HandledBy;
  /** The reply a vote that does not count gets, queued in the same transaction as the record of why. */
  replyIfRefused?: (why: string) => NewTimer;
  /**
   * The request's repository as GitHub named it in the delivery that brought the vote, whose
   * repository id the caller matched with the request's; without it, the stored name. Either is read
   * again before the voter is judged: a delivery handled late may name what another repository holds now.
   */
  repository?: RepoCoordinates;
}

/**
 * `handled`: the record of the vote (or of why it did not count), or another handling's, marked
 * `handledBy` done, so the caller has nothing left to mark. `recorded`: this vote's own record was
 * written (not when the mark was found taken).
 */
export type VoteOutcome = { counted: true; request: GateRequest; stored: StoredRequest } | { counted: false; why: string; handled: boolean; recorded: boolean };

/** A request as the store holds it, with the votes that stand: what a vote and `eligibility` check. */
export interface StoredRequest {
  row: ApprovalRequest;
  votes: readonly StoredVote[];
}

/** A request as stored and as shown, from one read. */
export interface RequestRead extends StoredRequest {
  request: GateRequest;
}

/** Whether someone could vote on a request now, and why (or why not), by the rules a vote is counted under. */
export interface EligibilityAnswer {
  eligible: boolean;
  reason: string;
}

/** The facts someone fills in to see what a repository's policy would decide (the dashboard's "Explain"). */
export interface ExplainFacts {
  action: string;
  environment?: string;
  branch?: string;
  severity?: string;
  event?: string;
  actor?: string;
  changedFiles: string[];
}

export type ExplainAnswer = { ok: true; decision: Decision; defaultBranch: string } | { ok: false; problems: string[] };

export class Gate {
  private readonly now: () => Date;
  private readonly policies = new PolicyCache();

  /** How many replies one person's commands that do not count get on a thread, within what window. */
  readonly commandReplies: { perPerson: number; windowMs: number };

  constructor(private readonly options: GateOptions) {
    this.now = options.now ?? (() => new Date());
    this.commandReplies = options.commandReplies ?? COMMAND_REPLIES;
  }

  private policySources(owner: string): PolicySourceOptions {
    return { knownNotifiers: this.options.notifiersFor(owner), extendsRepositories: this.options.extendsRepositories, cache: this.policies };
  }

  async view(requestId: string): Promise<GateRequest | undefined> {
    return (await this.read(requestId))?.request;
  }

  /** The request as stored and as shown, read once, for a caller that goes on to vote or check eligibility. */
  async read(requestId: string): Promise<RequestRead | undefined> {
    const read = await this.options.store.getRequestWithVotes(requestId);
    return read && { row: read.request, votes: read.votes, request: toGateRequest(read.request, read.votes) };
  }

  /**
   * Creates the request for this job and action, or reattaches to it (a retried step). A request
   * belongs to one job of one run attempt: the token's `check_run_id` names the job where GitHub
   * provides it, else the environment does. Reattaching with other facts is a conflict, never an answer
   * with another job's decision. With `limits`, a new request past a cap on pending requests is
   * refused (`PendingLimitError`), never created. `existing`: what the caller has just found under the
   * request's key (null: nothing), so it is not read again; a request created since is found as the
   * store creates this one.
   */
  async open(run: RunIdentity, input: RequestInput, { limits, existing }: { limits?: PendingLimits; existing?: ApprovalRequest | null } = {}): Promise<GateRequest> {
    const { store } = this.options;
    // The job's `environment:` is in the token; the Action's input may only repeat it (names ignore case, as on GitHub).
    if (run.environment && input.environment && run.environment.toLowerCase() !== input.environment.toLowerCase()) {
      throw new InputError(`environment "${input.environment}" does not match this job's environment "${run.environment}"`);
    }
    const environment = run.environment ?? input.environment;
    const key = requestKeyFor(run, input.action, environment);
    const found = existing === undefined ? await store.findRequest(key) : existing;
    if (found) return this.reattach(found, input, environment);

    return this.create(run, input, key, environment, {}, limits);
  }

  /**
   * Opens the request of a job that waits on this App as a custom deployment protection rule, or
   * returns the one a redelivery of the same rule already opened. Its key binds the repository, the
   * run, the environment, the deployed commit and the deployment, so a vote on another commit's
   * request never counts for it. Its decision is sent through the rule's callback by the outbox.
   */
  async openDeployment(run: RunIdentity, deployment: DeploymentFacts, pullAuthors: { login: string; id: string }[] = []): Promise<{ created: boolean; request: GateRequest }> {
    const key: RequestKey = {
      repositoryId: run.repositoryId,
      runId: run.runId,
      runAttempt: run.runAttempt,
      action: DEPLOYMENT_ACTION,
      jobKey: `${deploymentJobKeyPrefix(deployment.environment)}${run.sha}:${deployment.deploymentId}`,
    };
    const existing = await this.options.store.findRequest(key);
    if (existing) return { created: false, request: (await this.view(existing.id))! };
    const requesters: Requester[] = [
      { login: run.actor, id: run.actorId, role: 'started the run' },
      ...pullAuthors.map((author): Requester => ({ login: author.login, id: author.id, role: 'opened the pull request' })),
    ];
    return { created: true, request: await this.create(run, { action: DEPLOYMENT_ACTION, environment: deployment.environment }, key, deployment.environment, { deployment, requesters }) };
  }

  /**
   * Whether a job of this run waiting in this environment has a request already that may be of the
   * run's latest attempt (in any state). One of an earlier attempt does not count: after a re-run whose
   * webhook was lost, the new attempt still needs its own.
   */
  async hasDeploymentRequest(repositoryId: string, runId: string, environment: string, run: { attempt: number; startedAt?: string }): Promise<boolean> {
    const requests = await this.deploymentRequests(repositoryId, runId, environment);
    return requests.some((r) => !ofEarlierAttempt(deploymentOf(r) ?? {}, run));
  }

  private deploymentRequests(repositoryId: string, runId: string, environment: string): Promise<ApprovalRequest[]> {
    return this.options.store.runRequests({ repositoryId, runId, action: DEPLOYMENT_ACTION, jobKeyPrefix: deploymentJobKeyPrefix(environment) });
  }

  /** Whether this run has a request of a later deployment to the environment (GitHub's deployment ids only grow). */
  private async laterDeploymentWaits(request: ApprovalRequest, deployment: DeploymentFacts): Promise<boolean> {
    const others = await this.deploymentRequests(request.repositoryId, request.runId, deployment.environment);
    return others.some((other) => (deploymentOf(other)?.deploymentId ?? 0) > deployment.deploymentId);
  }

  /**
   * GitHub takes the answer to a rule by run and environment alone: once a run is re-run, an earlier
   * attempt's request would answer for the new attempt's job. So the earlier attempts' requests that
   * still wait end as superseded, and their answer is never sent (the outbox checks the run again).
   */
  private async supersedeEarlierAttempts(request: ApprovalRequest, environment: string, run: RunStarters): Promise<void> {
    for (const other of await this.deploymentRequests(request.repositoryId, request.runId, environment)) {
      if (other.id === request.id || other.status !== 'pending') continue;
      if (!ofEarlierAttempt(deploymentOf(other) ?? {}, run)) continue;
      this.options.log.info({ requestId: other.id, by: request.id, runId: request.runId, attempt: run.attempt }, 'an earlier attempt\'s job-level request is superseded');
      await this.complete(other.id, { status: 'failed', reason: `superseded: ${rerunText(request.runId, run.attempt, environment)} (request ${request.id})` });
    }
  }

  private async create(run: RunIdentity, input: RequestInput, key: RequestKey, environment: string | undefined, extra: Partial<RunFacts>, limits?: PendingLimits): Promise<GateRequest> {
    const { store } = this.options;
    const environmentKey = (environment ?? '').toLowerCase();
    const [owner, repo] = run.repository.split('/');
    const { installationId, github } = await this.options.installations.forRepository(owner, repo);
    const facts: RunFacts = {
      owner,
      repo,
      installationId,
      eventName: run.eventName,
      ref: run.ref,
      sha: run.sha,
      headSha: run.sha,
      environment,
      severity: input.severity,
      summary: input.summary,
      timeoutSeconds: input.timeoutSeconds,
      requesters: [{ login: run.actor, id: run.actorId, role: 'started the run' }],
      ...extra,
    };
    const created = this.now();
    // A deadline from the start: if this replica dies before deciding, the request still ends.
    const provisional = new Date(created.getTime() + 1000 * (input.timeoutSeconds ?? BUILT_IN_DEFAULTS.timeoutSeconds));
    const { created: isNew, request } = await store.createRequest({
      ...key,
      repository: run.repository,
      requester: run.actor,
      environmentKey,
      commitSha: run.sha,
      facts,
      deadline: provisional,
      evaluateAt: new Date(created.getTime() + EVALUATE_GRACE_MS),
      ...(limits ? { limits } : {}),
    });
    if (!isNew) return this.reattach(request, input, environment);
    // Evaluated at once where GitHub answers; its `evaluate` job retries if it does not, or if this replica dies.
    await this.decideFailingClosed(request, null, github).catch(async (err) => {
      if (!(err instanceof TransientError)) throw err;
      this.options.log.warn({ err, requestId: request.id }, 'evaluation will be retried');
      await store.scheduleTimer({ kind: EVALUATE_JOB, requestId: request.id, key: `${EVALUATE_JOB}:${request.id}`, dueAt: new Date(this.now().getTime() + backoffMs(1, err.cause)) });
    });
    return (await this.view(request.id))!;
  }

  /** A retried step gets its own request back; a different step claiming it gets a conflict. */
  private async reattach(request: ApprovalRequest, input: RequestInput, environment: string | undefined): Promise<GateRequest> {
    const facts = request.facts as unknown as RunFacts;
    const differences: string[] = [];
    const same = (a: string | undefined, b: string | undefined, ignoreCase = false) =>
      (a ?? '') === (b ?? '') || (ignoreCase && (a ?? '').toLowerCase() === (b ?? '').toLowerCase());
    if (!same(facts.environment, environment, true)) differences.push(`environment "${environment ?? ''}" (the request has "${facts.environment ?? ''}")`);
    if (!same(facts.severity, input.severity)) differences.push(`severity "${input.severity ?? ''}" (the request has "${facts.severity ?? ''}")`);
    if (!same(facts.summary, input.summary)) differences.push('a different summary');
    if (facts.timeoutSeconds !== input.timeoutSeconds) differences.push(`timeout ${input.timeoutSeconds ?? 'unset'} (the request has ${facts.timeoutSeconds ?? 'unset'})`);
    if (differences.length > 0) {
      throw new ConflictError(
        `request ${request.id} for \`${request.action}\` in this run attempt was opened with other facts; this step sends ${differences.join(', ')}. ` +
          'Each gated step of a job needs its own action name, and a retried step must send the same inputs',
      );
    }
    return (await this.view(request.id))!;
  }

  /**
   * Evaluates a pending request that has no decision yet, from what the store holds about its run.
   * A transient GitHub failure throws `TransientError` (the `evaluate` job retries) until the budget
   * is spent; then, and on any other failure, the request fails closed.
   */
  async evaluateRequest(requestId: string, client?: GitHubClient): Promise<void> {
    const row = await this.options.store.getRequest(requestId);
    if (!row || row.status !== 'pending' || row.decision) return;
    await this.decideFailingClosed(row, null, client);
  }

  /**
   * A window timer fired: a freeze in the request's scope starts or ends, or a deploy window opens or
   * closes. The request is decided again from the policy as it is now, so a request held by a freeze
   * is released when it ends, and one that was waiting for people when a freeze started is held too.
   */
  async recheckWindows(requestId: string): Promise<void> {
    const row = await this.options.store.getRequest(requestId);
    if (!row || row.status !== 'pending' || !row.decision) return;
    await this.decideFailingClosed(row, row.decision as unknown as Decision);
  }

  private async decideFailingClosed(row: ApprovalRequest, previous: Decision | null, client?: GitHubClient): Promise<void> {
    const requestId = row.id;
    const facts = row.facts as unknown as RunFacts;
    try {
      const github = client ?? (await this.options.installations.client(facts.installationId));
      await this.evaluate(row, github, facts, previous);
    } catch (err) {
      const budgetMs = Math.min(this.options.evaluationBudgetMs ?? DEFAULT_EVALUATION_BUDGET_MS, 1000 * (facts.timeoutSeconds ?? Infinity));
      // Deciding again (a window changed) has its own budget, from the moment it was due.
      const since = previous ? this.now().getTime() - Date.parse(previous.windows?.recheckAt ?? row.updatedAt.toISOString()) : this.now().getTime() - row.createdAt.getTime();
      const within = since < budgetMs;
      if (!(err instanceof RunContextError) && isTransient(err) && within) {
        throw new TransientError(`GitHub did not answer while evaluating request ${requestId}: ${(err as Error).message}`, { cause: err });
      }
      const why = err instanceof RunContextError ? err.message : `could not establish the facts for a decision: ${(err as Error).message}`;
      this.options.log.error({ err, requestId }, 'request evaluation failed');
      await this.complete(requestId, { status: 'failed', reason: why });
    }
  }

  /** Tells the notifiers of a request that waits for people, once it is shown on GitHub (so links work). */
  async announce(requestId: string): Promise<void> {
    const row = await this.options.store.getRequest(requestId);
    const facts = row?.facts as unknown as (RunFacts & { announced?: boolean }) | undefined;
    if (!row || !facts || row.status !== 'pending' || facts.announced || !row.checkRunId) return;
    // A held request is announced when it is released, if it then needs people.
    if ((row.decision as unknown as Decision | null)?.outcome === 'held') return;
    // Marked in one statement on the request as it is then: a decision landing meanwhile is neither
    // announced as waiting nor has its facts overwritten with the copy read above.
    if (!(await this.options.store.markAnnounced(requestId))) return;
    const shown = await this.view(requestId);
    if (shown) this.options.notifications.requested(shown);
  }

  /** The outbox gave up showing a pending request on GitHub: nobody can see it, so it cannot be approved fairly. */
  async publicationFailed(requestId: string, why: string): Promise<void> {
    await this.complete(requestId, { status: 'failed', reason: `could not show the request on GitHub: ${why}` });
  }

  /** The App lost the request's repository (uninstalled, or the repository taken out of its installation): nothing can decide it any more. */
  async installationLost(requestId: string, why: string): Promise<boolean> {
    return this.complete(requestId, { status: 'failed', reason: why });
  }

  /**
   * Evaluates the policy for the request and acts on the decision. `previous`: the decision it had, when
   * it is decided again because a window changed (then its time escalations, reminders and deadline
   * start over from the moment it stops being held).
   */
  private async evaluate(request: ApprovalRequest, github: GitHubClient, facts: RunFacts, previous: Decision | null = null): Promise<void> {
    const { store } = this.options;
    const fromToken = previous === null && this.now().getTime() - request.createdAt.getTime() < NAME_FROM_TOKEN_MS;
    const repo = fromToken ? { owner: facts.owner, repo: facts.repo } : await repositoryNow(github, request, facts);
    // Read at the default branch's head commit: one request names it, and its files are read once per commit.
    const defaultBranchHead = await github.defaultBranchHead(repo);
    // The last approved run of the same branch: another branch's approval (one its rules let through
    // without anyone, say) says nothing about what this branch's commits change.
    const lastApproved = async (ref: string) => {
      const base = await store.findLastApproved({ repositoryId: request.repositoryId, action: request.action, environmentKey: request.environmentKey, ref, before: request.createdAt });
      return {
        subject: `\`${request.action}\`${facts.environment ? ` to \`${facts.environment}\`` : ' (no environment)'} from \`${branchOfRef(ref) ?? ref}\``,
        base: base?.commitSha ? { sha: base.commitSha, label: `request ${base.id}, run ${base.runId}` } : undefined,
      };
    };
    // A job-level gate's run is read once, when it is first decided: who started it, and which attempt the deployment is of.
    const deployment = request.action === DEPLOYMENT_ACTION ? facts.deployment : undefined;
    const rerunKnown = deployment !== undefined || facts.requesters?.some((r) => r.role === 're-ran the run');
    const runRead = deployment && deployment.attempt === undefined ? runStarters(github, repo, request.runId) : undefined;
    const runCommit: RunCommit = {
      ref: facts.ref,
      sha: facts.sha,
      eventName: facts.eventName,
      refFromDeployment: deployment !== undefined,
      pullNumbers: deployment?.pullNumbers,
      runId: request.runId,
      ...(facts.pullMergedInto ? { mergedInto: facts.pullMergedInto } : {}),
      // One read of the run tells who started it and when it was made.
      ...(runRead ? { runCreatedAt: () => runRead.then((read) => read.createdAt) } : {}),
    };
    const [context, inputs, rerunner, run] = await Promise.all([
      loadRunContext(github, repo, runCommit, { lastApproved, defaultBranchHead }, this.policies),
      loadPolicyInputs(github, repo, defaultBranchHead, this.policySources(repo.owner)),
      rerunKnown ? undefined : rerunStarter(github, repo, request.runId, request.runAttempt),
      runRead,
    ]);
    if (deployment && run && (ofEarlierAttempt(deployment, run) || (madeAsAttemptStarted(deployment, run) && (await this.laterDeploymentWaits(request, deployment))))) {
      // Of an earlier attempt (which one is not known), so that its end is never sent for the latest.
      await store.updateRequest(request.id, { facts: { ...facts, deployment: { ...deployment, attempt: run.attempt - 1 } } });
      await this.complete(request.id, { status: 'failed', reason: `superseded: ${rerunText(request.runId, run.attempt, deployment.environment)}` });
      return;
    }
    // Pull request authors are looked up again from GitHub; other requesters are kept as the request was opened with them.
    const kept = requestersOf(facts, request.requester).filter((r) => !(r.role === 'opened the pull request' && context.pull) && r.role !== 'opened a pull request the run ships');
    const requesters: Requester[] = run ? withRunStarters(kept, run) : kept;
    if (rerunner) addRequester(requesters, rerunner, 're-ran the run');
    if (context.pull) requesters.push({ login: context.pull.author, id: context.pull.authorId, role: 'opened the pull request' });
    for (const pull of context.shippedPulls ?? []) addRequester(requesters, { login: pull.author, id: pull.authorId }, 'opened a pull request the run ships');
    const updatedFacts: RunFacts = {
      ...facts,
      headSha: context.headSha,
      requesters,
      ...(deployment && run ? { deployment: { ...deployment, attempt: run.attempt } } : {}),
      ...(context.mergedInto ? { pullMergedInto: context.mergedInto } : {}),
    };
    if (!inputs.ok) {
      await store.updateRequest(request.id, { facts: { ...updatedFacts, problems: inputs.problems }, prNumber: context.pull?.number });
      await this.complete(request.id, { status: 'failed', reason: 'the approval policy is invalid', auditType: 'policy_error', facts: { problems: inputs.problems } });
      return;
    }
    const requestFacts: RequestFacts = {
      action: request.action,
      environment: facts.environment,
      branch: context.branch,
      targetBranch: context.targetBranch,
      ...(context.unapprovedBase !== undefined ? { unapprovedBase: context.unapprovedBase } : {}),
      severity: facts.severity,
      event: facts.eventName,
      ...startersOf(requesters, request.requester),
      labels: context.labels,
      changedFiles: context.changedFiles,
      ...(context.unknownChanges !== undefined ? { unknownChanges: context.unknownChanges } : {}),
    };
    const now = this.now();
    const decision = evaluate(inputs.policy, requestFacts, { codeowners: inputs.codeowners, now });
    const released = previous?.outcome === 'held' && decision.outcome !== 'held';
    const waitingSince = released ? now.toISOString() : facts.waitingSince;
    const { recorded } = await store.recordDecision(request.id, {
      decision,
      // A released request is announced by its `released` notification (its check run exists from the hold).
      facts: { ...updatedFacts, evaluated: requestFacts, problems: decision.problems, ...(waitingSince ? { waitingSince } : {}), ...(released ? { announced: true } : {}) },
      deadline: this.deadlineOf(request, facts, decision, waitingSince, now),
      ...(context.pull ? { prNumber: context.pull.number } : {}),
      ...(previous ? { replace: true } : {}),
    });
    // Another evaluation of the same request (its job, on another replica) got there first.
    if (!recorded) return;
    if (deployment && run) await this.supersedeEarlierAttempts(request, deployment.environment, run);
    await this.scheduleWindowCheck(request.id, decision, previous);
    const windows = decision.windows;
    if (decision.outcome === 'held' && previous?.outcome !== 'held' && windows) {
      await store.appendAudit({ type: 'held', actor: APP_ACTOR, requestId: request.id, facts: { windows: windows.closedBy, until: windows.opensAt, messages: windows.messages } });
    }
    if (released) {
      await store.appendAudit({ type: 'released', actor: APP_ACTOR, requestId: request.id, facts: { windows: previous?.windows?.closedBy ?? [], outcome: decision.outcome } });
    }
    // Waiting for people before and after, the request keeps its clock: what fell due under it (an
    // escalation that paged the on-call, a reminder) is not done again.
    const keptWaiting = previous?.outcome === 'approval_required' && decision.outcome === 'approval_required' ? now : undefined;
    const since = new Date(waitingSince ?? request.createdAt.toISOString());
    if (previous) {
      // What was scheduled for the previous decision is replaced by what this one asks for (nothing, while held).
      if (keptWaiting) await this.cancelEscalations(request, previous, since, keptWaiting);
      else await store.cancelTimers({ requestId: request.id, kind: ESCALATION_TIMER });
      await store.cancelTimers({ requestId: request.id, kind: REMINDER_TIMER });
    }
    if (decision.outcome === 'approval_required') {
      await this.scheduleEscalations(request, decision, since, keptWaiting && previous ? { fellDue: keptWaiting, previous } : undefined);
      if (decision.reminderSeconds) await this.scheduleReminder(request.id, nextReminder(since, decision.reminderSeconds, keptWaiting), decision.reminderSeconds);
    }
    // "May go ahead" is said only of a request that does: one rejected or blocked the moment it is released hears only how it ended.
    if (released && (decision.outcome === 'approval_required' || decision.outcome === 'auto_approve')) {
      const view = await this.view(request.id);
      if (view) this.options.notifications.released(view, previous?.windows?.closedBy ?? []);
    }
    if (decision.outcome === 'auto_approve') await this.complete(request.id, { status: 'approved', reason: 'auto' });
    if (decision.outcome === 'blocked') await this.complete(request.id, { status: 'failed', reason: decision.problems.join('; ') || decision.summary });
    if (decision.outcome === 'rejected' && windows) {
      await this.complete(request.id, { status: 'rejected', reason: decision.summary, auditType: 'window_rejected', facts: { windows: windows.closedBy, messages: windows.messages } });
    }
    if (decision.outcome === 'approval_required' && previous) {
      // Decided again, the request may already have the approvals it needs (people approved the rule
      // while an override was asked for, and the freeze has ended).
      const read = await store.getRequestWithVotes(request.id);
      if (read?.request.status === 'pending' && read.votes.some((v) => v.choice === 'approve')) {
        await this.recount(read.request, read.votes, { counted: 'when the request was decided again' });
      }
    }
  }

  /**
   * The request's deadline: its timeout counts from when it starts waiting for people (when it was
   * opened, or when the window holding it opens), and never goes past the step's own timeout.
   */
  private deadlineOf(request: ApprovalRequest, facts: RunFacts, decision: Decision, waitingSince: string | undefined, now: Date): Date {
    const opensAt = decision.outcome === 'held' ? (decision.windows?.opensAt ? Date.parse(decision.windows.opensAt) : now.getTime()) : undefined;
    const from = opensAt ?? Date.parse(waitingSince ?? request.createdAt.toISOString());
    const policy = from + decision.timeoutSeconds * 1000;
    const step = facts.timeoutSeconds !== undefined ? request.createdAt.getTime() + facts.timeoutSeconds * 1000 : Infinity;
    return new Date(Math.min(policy, step));
  }

  /** One window timer per request, at the next moment a window in its scope changes; none when nothing will. */
  private async scheduleWindowCheck(requestId: string, decision: Decision, previous: Decision | null): Promise<void> {
    const key = `${WINDOW_TIMER}:${requestId}`;
    const at = decision.windows?.recheckAt;
    if (at && (decision.outcome === 'held' || decision.outcome === 'approval_required')) {
      await this.options.store.scheduleTimer({ kind: WINDOW_TIMER, requestId, key, dueAt: new Date(at) });
    } else if (previous) {
      // A first decision has no timer to cancel: only a recorded decision schedules one.
      await this.options.store.cancelTimers({ key });
    }
  }

  /**
   * Time escalations (`after: 30m`) widen who may approve; a timer re-publishes so the new approvers are mentioned.
   * `kept`: the request keeps waiting under the same clock after `previous`. Its escalations due by
   * `fellDue` have fired (or their timers still will), so none is scheduled again; one the policy
   * added since is due now, and is announced.
   */
  private async scheduleEscalations(request: ApprovalRequest, decision: Decision, since: Date, kept?: { fellDue: Date; previous: Decision }): Promise<void> {
    const fired = new Set(kept ? [...escalationTimers(request.id, kept.previous, since)].filter((timer) => timer.dueAt <= kept.fellDue).map(escalationIdentity) : []);
    for (const timer of escalationTimers(request.id, decision, since)) {
      if (kept && timer.dueAt <= kept.fellDue && fired.has(escalationIdentity(timer))) continue;
      await this.options.store.scheduleTimer(timer);
    }
  }

  /** The previous decision's time escalations not yet due by `fellDue`; those due have fired, or their timers still will. */
  private async cancelEscalations(request: ApprovalRequest, previous: Decision, since: Date, fellDue: Date): Promise<void> {
    const keys = [...escalationTimers(request.id, previous, since)].filter((timer) => timer.dueAt > fellDue).map((timer) => timer.key);
    if (keys.length > 0) await this.options.store.cancelTimers({ keys });
  }

  /**
   * A request has one reminder timer, under one key: scheduling it again replaces it (and takes it
   * back from the replica that claimed it), and completing the request deletes it with the others.
   */
  private async scheduleReminder(requestId: string, dueAt: Date, everySeconds: number): Promise<void> {
    await this.options.store.scheduleTimer(reminderTimer(requestId, dueAt, everySeconds));
  }

  /**
   * A reminder timer fired: re-notify while the request waits, then schedule the next one. After
   * downtime the reminders missed are not sent in a burst: one now, the next on the interval's grid.
   */
  async remind(requestId: string, dueAt: Date): Promise<void> {
    const row = await this.options.store.getRequest(requestId);
    if (row?.status !== 'pending') return;
    const request = await this.view(requestId);
    const every = request?.decision?.reminderSeconds;
    if (!request || !every) return;
    const intervalMs = every * 1000;
    const missed = Math.max(0, Math.floor((this.now().getTime() - dueAt.getTime()) / intervalMs));
    const next = new Date(dueAt.getTime() + (missed + 1) * intervalMs);
    // The next one is durable before this one is sent: a failure after this point can lose one
    // reminder, never send it twice. Past the deadline the request ends, so none is needed. A
    // decision committed since the request was read (a vote here, a deadline on another replica)
    // leaves nothing to remind of.
    const timers = !row.deadline || next < row.deadline ? [reminderTimer(requestId, next, every)] : [];
    if (!(await this.options.store.recordWhilePending(requestId, { timers }))) return;
    this.options.notifications.reminder(request);
  }

  /**
   * An escalation timer fired: record it and show the widened requirement while the request still
   * waits. The people it lets approve may have approved already (counted then for another rule), so
   * the standing votes are counted again, and approve the request now if they are enough, as a vote
   * would: every approver looked up again first, on the code the request is about.
   */
  async escalate(requestId: string, facts: Record<string, unknown>): Promise<void> {
    const { store } = this.options;
    const read = await store.getRequestWithVotes(requestId);
    if (read?.request.status !== 'pending') return;
    const escalated = { type: 'escalated', actor: APP_ACTOR, facts };
    const counted = await this.recount(read.request, read.votes, { event: escalated, counted: 'when a time escalation fell due' });
    if (counted === 'closed') return;
    // Decided since it was read (the deadline on another replica, say), the request's trail ends with that decision.
    if (counted === 'not_counted' && !(await store.recordWhilePending(requestId, { audit: [{ ...escalated, requestId }], publish: true }))) return;
    const request = await this.view(requestId);
    const escalation = request?.decision?.requirements[Number(facts.requirement)]?.scheduled[Number(facts.step)];
    if (request?.status === 'pending' && escalation) this.options.notifications.escalated(request, approverStrings(escalation.approvers), escalation.notify);
  }

  /**
   * Counts the standing votes again, `event` (what prompted it) first on record, and approves the
   * request if they are enough, as a vote would: every approver looked up again first, on the code
   * the request is about. 'not_counted' when GitHub could not be asked, when approvals kept arriving
   * while the approvers were looked up again, or when the request cannot be decided now (held by a
   * window, or a window changed since it was decided): the next vote counts them all, and `event` is
   * then not recorded here.
   */
  private async recount(row: ApprovalRequest, votes: readonly StoredVote[], { event, counted }: { event?: { type: string; actor: string; facts: object }; counted: string }): Promise<'counted' | 'not_counted' | 'closed'> {
    const { store, installations } = this.options;
    const decision = row.decision as unknown as Decision | null;
    if (!decision || decision.outcome === 'held' || windowChangedSince(decision, this.now())) return 'not_counted';
    const facts = row.facts as unknown as RunFacts;
    for (let attempt = 1; ; attempt++) {
      let recheck: Awaited<ReturnType<Gate['recheckApprovers']>>;
      let superseded: string | undefined;
      try {
        const github = await installations.client(facts.installationId);
        const repo = await repositoryNow(github, row, facts);
        recheck = await this.recheckApprovers(row, decision, undefined, github, repo, attempt === 1 ? votes : undefined);
        if (recheck.wouldApprove && row.prNumber !== null) superseded = await this.supersededReason(github, repo, row.prNumber, facts.headSha);
      } catch (err) {
        // What prompted the count (an escalation paging the on-call) must not wait for GitHub; the votes count at the next vote.
        this.options.log.warn({ err, requestId: row.id }, 'the approvers could not be looked up again: the votes are counted at the next vote');
        return 'not_counted';
      }
      if (superseded) {
        if (event) await store.appendAudit({ ...event, requestId: row.id });
        await this.complete(row.id, { status: 'failed', reason: `superseded: ${superseded}` });
        return 'closed';
      }
      try {
        const result = await store.recountVotes({
          requestId: row.id,
          refreshedVoters: recheck.refreshedVoters,
          audit: [...(event ? [event] : []), ...recheck.audit],
          facts: { counted },
          tally: (standing, current) => {
            const stored = (current.decision as unknown as Decision | null) ?? decision;
            // Until a window's change is decided again, nothing completes the request on the old decision.
            if (windowChangedSince(stored, this.now())) return 'pending';
            const status = tallyVotes(stored, asCast(standing), this.approvalOptions(current)).status;
            if (status !== 'approved') return 'pending';
            const unchecked = standing.filter((v) => v.choice === 'approve' && !recheck.covered.has(v.login.toLowerCase()));
            if (unchecked.length > 0) throw new UncheckedApprovers(unchecked.map((v) => v.login));
            return 'approved';
          },
        });
        if (result.outcome !== 'counted') return 'closed';
        if (result.completed) await this.completed(result.request);
        return 'counted';
      } catch (err) {
        if (!(err instanceof UncheckedApprovers)) throw err;
        this.options.log.info({ requestId: row.id, approvers: err.logins, attempt }, 'votes arrived while the votes were counted again: looking up the approvers again');
        if (attempt >= MAX_RECHECKS) return 'not_counted';
      }
    }
  }

  private async complete(requestId: string, completion: { status: 'approved' | 'rejected' | 'failed' | 'timed_out' | 'cancelled'; reason: string; actor?: string; auditType?: string; facts?: object }): Promise<boolean> {
    const result = await this.options.store.completeRequest(requestId, { actor: APP_ACTOR, ...completion });
    if (result?.changed) await this.completed(result.request);
    return result?.changed ?? false;
  }

  /** Exactly one caller sees each request complete; it counts it and tells the notifiers. */
  private async completed(request: ApprovalRequest, view?: GateRequest): Promise<void> {
    this.options.onCompleted?.(request);
    const decided = view ?? (await this.view(request.id));
    if (decided) this.options.notifications.decided(decided);
  }

  /**
   * One vote, from a comment or a button. Every vote received leaves an audit event, whether it
   * counted or not. A vote counts only if it was cast after the request opened, on the code the
   * request is about (a pull request whose head moved supersedes the request), by an eligible voter;
   * and before it completes the request, every earlier approver is looked up again, since
   * permissions change.
   */
  async vote(voting: Voting): Promise<VoteOutcome> {
    const { store, installations } = this.options;
    const row = voting.read?.id === voting.requestId ? voting.read : await store.getRequest(voting.requestId);
    if (!row) return { counted: false, why: 'there is no such request', handled: false, recorded: false };
    // Whether this record or another handling's made the mark, nothing is left for the caller to mark.
    const refuse = async (why: string, type = 'vote_refused'): Promise<VoteOutcome> => {
      const recorded = await store.recordHandled({
        audit: [{ type, actor: voting.login, requestId: row.id, facts: { choice: voting.choice, via: voting.via, reason: why, ...commentFacts(voting) } }],
        timers: voting.replyIfRefused ? [voting.replyIfRefused(why)] : [],
        handledBy: voting.handledBy,
      });
      return { counted: false, why, handled: voting.handledBy !== undefined, recorded };
    };
    if (row.status !== 'pending') return refuse(`the request is already ${row.status.replace('_', ' ')}`, 'vote_ignored');
    const decision = row.decision as unknown as Decision | null;
    if (!decision) return refuse('the request is still being evaluated; try again in a moment', 'vote_ignored');
    // Its deadline passed before its timer fired: it timed out then, whatever this vote would find (a moved PR, say).
    if (row.deadline && row.deadline <= this.now()) {
      await this.complete(row.id, { status: 'timed_out', reason: 'deadline' });
      const ended = (await store.getRequest(row.id))?.status ?? 'timed_out';
      return refuse(`the request is already ${ended.replace('_', ' ')}`, 'vote_ignored');
    }
    if (decision.outcome === 'held' && decision.windows) {
      return refuse(`the request is held ${untilText(decision.windows)} by ${decision.windows.closedBy.map((w) => `\`${w}\``).join(', ')} (${decision.windows.messages.join(' ')}); votes count once it is released`);
    }
    const outdated = windowChangedSince(decision, this.now());
    if (outdated) return refuse(outdated);
    // GitHub stamps a comment with whole seconds: one stamped with the second the request opened in may
    // have been written before it (for an earlier request on the thread, say). Nobody answers a request
    // within the second it opens, so only a later second counts.
    if (voting.comment) {
      const [written, opened] = [Math.floor(Date.parse(voting.comment.createdAt) / 1000), Math.floor(row.createdAt.getTime() / 1000)];
      if (Number.isNaN(written)) return refuse(`the comment's time, "${voting.comment.createdAt}", is not a time, so it cannot be shown to come after this request`);
      if (written <= opened) {
        const when = written < opened ? 'before this request was opened' : 'in the second this request was opened, perhaps before it';
        return refuse(`the comment was written at ${voting.comment.createdAt}, ${when} (${row.createdAt.toISOString()}); only commands written for it count`);
      }
    }
    const facts = row.facts as unknown as RunFacts;
    const github = await installations.client(facts.installationId);
    let repo: RepoCoordinates;
    try {
      // A comment's delivery names the repository as it was called when the comment was written; renamed
      // since, that name may lead to another repository now, whose permissions would judge the voter.
      repo = await repositoryNow(github, row, voting.repository ?? facts);
    } catch (err) {
      if (!(err instanceof RepositoryNameTaken)) throw err;
      return refuse(err.message);
    }
    if (row.prNumber !== null) {
      const why = await this.supersededReason(github, repo, row.prNumber, facts.headSha);
      if (why) {
        // Should the App stop between the two, the request's next vote, or its deadline, ends it.
        const outcome = await refuse(why);
        await this.complete(row.id, { status: 'failed', reason: `superseded: ${why}` });
        return outcome;
      }
    }
    let voter: Voter;
    try {
      voter = await lookUpVoter(github, repo, { login: voting.login, id: voting.senderId, type: voting.senderType }, decision);
    } catch (err) {
      // A dashboard session keeps the login it signed in with for hours; a comment's webhook may be
      // handled after its author renamed. Either way that login's permission and teams are someone else's.
      if (!(err instanceof LoginNamesAnotherAccount)) throw err;
      return refuse(voting.via === 'dashboard' ? `${err.message}; ${SIGN_IN_AGAIN}` : err.message);
    }
    const approvalOptions = this.approvalOptions(row);
    const eligibility = checkEligibility(decision, voter, approvalOptions);
    if (!eligibility.eligible) return refuse(eligibility.reason);
    const noReason = overrideWithoutReason(decision, eligibility, voting.choice, voting.note);
    if (noReason) return refuse(noReason);
    const overridden = voting.choice === 'approve' ? eligibility.requirements.flatMap((i) => decision.requirements[i]?.override?.window ?? []) : [];
    const override = overridden.length > 0 ? { windows: overridden, reason: voting.note } : undefined;
    const predates = voting.comment && override ? commentBeforeClosing(voting.comment.createdAt, override.windows, decision) : undefined;
    if (predates) return refuse(predates);

    // The earlier approvers are looked up outside the vote's transaction (GitHub calls must not hold
    // the request's lock), from votes read a moment before it. Should the votes the transaction finds
    // under the lock complete the request with an approver that look-up did not cover (one who voted
    // since), nothing is recorded and the look-up runs again on the votes as they are then.
    let result: VoteResult | undefined;
    for (let attempt = 1; !result; attempt++) {
      const recheck = voting.choice === 'approve'
        ? await this.recheckApprovers(row, decision, { voter, verdict: 'approve', ...(override ? { overrides: override.windows } : {}) }, github, repo, attempt === 1 ? voting.readVotes : undefined)
        : { refreshedVoters: [], audit: [], covered: new Set<string>() };
      try {
        result = await store.castVote({
          requestId: row.id,
          login: voter.login,
          choice: voting.choice,
          note: voting.note,
          via: voting.via,
          ...(voting.comment ? { commentId: voting.comment.id } : {}),
          ...(voting.handledBy ? { handledBy: voting.handledBy } : {}),
          facts: { voter, eligibleFor: eligibility.requirements, ...(override ? { override } : {}) },
          refreshedVoters: recheck.refreshedVoters,
          // An override is on record as such, with its reason, before the vote that makes it.
          audit: [...recheck.audit, ...(override ? [{ type: 'override', actor: voter.login, facts: { ...override, via: voting.via } }] : [])],
          // The decision as stored when the vote is counted: a window may have changed it since it was read.
          tally: (votes, current) => {
            const standing = (current.decision as unknown as Decision | null) ?? decision;
            const outdatedNow = windowChangedSince(standing, this.now());
            if (outdatedNow) throw new DecisionOutdated(outdatedNow);
            const status = tally(standing, votes, this.approvalOptions(current));
            const unchecked = votes.filter((v) => v.choice === 'approve' && !sameLogin(v.login, voter.login) && !recheck.covered.has(v.login.toLowerCase()));
            if (status === 'approved' && unchecked.length > 0) throw new UncheckedApprovers(unchecked.map((v) => v.login));
            return status;
          },
        });
      } catch (err) {
        if (err instanceof DecisionOutdated) return refuse(err.message);
        if (!(err instanceof UncheckedApprovers)) throw err;
        this.options.log.info({ requestId: row.id, approvers: err.logins, attempt }, 'votes arrived while a vote was checked: looking up the earlier approvers again');
        if (attempt >= MAX_RECHECKS) return refuse(`other approvals (${err.logins.map((login) => `@${login}`).join(', ')}) kept arriving while this vote was checked; vote again`);
      }
    }
    switch (result.outcome) {
      case 'not_found':
        return { counted: false, why: 'there is no such request', handled: false, recorded: false };
      case 'closed': {
        // A late vote after a missed deadline: this call timed the request out, so it counts it once.
        if (result.completed) await this.completed(result.request);
        return refuse(`the request is already ${result.request.status.replace('_', ' ')}`, 'vote_ignored');
      }
      case 'duplicate':
        return refuse('you have already voted on this request; each person counts once', 'vote_ignored');
      case 'already_handled':
        return { counted: false, why: 'this vote was already handled', handled: true, recorded: false };
      case 'recorded': {
        // The vote's transaction read the request and its votes as it committed: they are the answer.
        const view = toGateRequest(result.request, result.votes);
        if (result.completed) await this.completed(result.request, view);
        return { counted: true, request: view, stored: { row: result.request, votes: result.votes } };
      }
    }
  }

  /**
   * Whether `who` could vote on the request now: the checks `vote` makes before counting (status,
   * evaluation, windows, the voter's permission, teams, bot, requester and code-owner groups), without
   * voting. Looked up afresh each time, as a vote would be.
   *
   * `shared`: lookups of one person made for one page, kept for the page's other requests of the same
   * repository and teams (GitHub's answer would be the same; a list of 100 requests asked it 100 times).
   * `stored`: the request and its votes as the caller read them a moment ago, so they are not read again.
   */
  async eligibility(request: string | StoredRequest, who: { login: string; id?: string }, shared?: Map<string, Promise<Voter>>): Promise<EligibilityAnswer> {
    const row = typeof request === 'string' ? await this.options.store.getRequest(request) : request.row;
    if (!row) return { eligible: false, reason: 'there is no such request' };
    if (row.status !== 'pending') return { eligible: false, reason: `the request is already ${row.status.replace('_', ' ')}` };
    const decision = row.decision as unknown as Decision | null;
    if (!decision) return { eligible: false, reason: 'the request is still being evaluated' };
    if (decision.outcome === 'held' && decision.windows) {
      return { eligible: false, reason: `the request is held ${untilText(decision.windows)} by ${decision.windows.closedBy.join(', ')}; votes count once it is released` };
    }
    const votes = typeof request === 'string' ? await this.options.store.listVotes(row.id) : request.votes;
    if (votes.some((v) => sameLogin(v.login, who.login))) return { eligible: false, reason: `@${who.login} has already voted on this request; each person counts once` };
    const facts = row.facts as unknown as RunFacts;
    const lookUp = async () => {
      const github = await this.options.installations.client(facts.installationId);
      return lookUpVoter(github, await repositoryNow(github, row, facts), { login: who.login, id: who.id, type: who.id === undefined ? undefined : 'User' }, decision);
    };
    try {
      const voter = shared ? await this.sharedLookUp(shared, row.repositoryId, facts, who, decision, lookUp) : await lookUp();
      const verdict = checkEligibility(decision, voter, this.approvalOptions(row));
      return { eligible: verdict.eligible, reason: verdict.reason };
    } catch (err) {
      if (err instanceof RepositoryNameTaken) return { eligible: false, reason: err.message };
      if (!(err instanceof LoginNamesAnotherAccount)) throw err;
      return { eligible: false, reason: `${err.message}; ${SIGN_IN_AGAIN}` };
    }
  }

  /** One lookup per person, repository and listed teams for a page: `shared` holds them while it renders. */
  private sharedLookUp(shared: Map<string, Promise<Voter>>, repositoryId: string, facts: RunFacts, who: { login: string; id?: string }, decision: Decision, lookUp: () => Promise<Voter>): Promise<Voter> {
    // By repository id: two repositories may have borne the same name, one after the other.
    const key = JSON.stringify([facts.installationId, repositoryId, who.login.toLowerCase(), who.id ?? null, [...listedTeams(decision)].sort()]);
    let pending = shared.get(key);
    if (!pending) {
      pending = lookUp();
      shared.set(key, pending);
      // A failed lookup is not kept: the next request asks GitHub again.
      pending.catch(() => shared.delete(key));
    }
    return pending;
  }

  /**
   * What the repository's policy on its default branch, as it is now, decides for these facts: the
   * same loading and evaluation a request gets, without opening one.
   */
  async explain(repository: string, facts: ExplainFacts): Promise<ExplainAnswer> {
    const [owner, repo] = repository.split('/') as [string, string];
    const { github } = await this.options.installations.forRepository(owner, repo);
    const coordinates = { owner, repo };
    const [defaultBranch, head] = await Promise.all([github.defaultBranch(coordinates), github.defaultBranchHead(coordinates)]);
    const inputs = await loadPolicyInputs(github, coordinates, head, this.policySources(owner));
    if (!inputs.ok) return { ok: false, problems: inputs.problems };
    const requestFacts: RequestFacts = { ...facts, branch: facts.branch ?? defaultBranch };
    return { ok: true, defaultBranch, decision: evaluate(inputs.policy, requestFacts, { codeowners: inputs.codeowners, now: this.now() }) };
  }

  /** Why the request can no longer be approved, when its pull request's head is no longer the commit it is about. */
  private async supersededReason(github: GitHubClient, repo: { owner: string; repo: string }, prNumber: number, headSha: string): Promise<string | undefined> {
    const { headSha: now } = await github.pullRequest(repo, prNumber);
    if (now === headSha) return undefined;
    return `pull request #${prNumber} has moved on to ${now.slice(0, 7)} since this run tested ${headSha.slice(0, 7)}, so approving this run would approve code nobody sees on the pull request; re-run the workflow on the new head`;
  }

  /**
   * When this approval (or, without one, the votes that stand) could complete the request, every
   * earlier approver is looked up again: one who lost permission or team membership since voting no
   * longer counts, and the audit trail says so.
   */
  private async recheckApprovers(
    row: ApprovalRequest,
    decision: Decision,
    cast: Vote | undefined,
    github: GitHubClient,
    repo: { owner: string; repo: string },
    read?: readonly StoredVote[],
  ): Promise<{ wouldApprove: boolean; refreshedVoters: { login: string; voter: Voter }[]; audit: { type: string; actor: string; facts: object }[]; covered: Set<string> }> {
    const votes = read ?? (await this.options.store.listVotes(row.id));
    const options = this.approvalOptions(row);
    const prospective = tallyVotes(decision, [...asCast(votes), ...(cast ? [cast] : [])], options);
    if (prospective.status !== 'approved') return { wouldApprove: false, refreshedVoters: [], audit: [], covered: new Set() };
    const earlier = votes.filter((v) => v.choice === 'approve' && !(cast && sameLogin(v.login, cast.voter.login)));
    const refreshedVoters = await Promise.all(
      earlier.map(async (v) => {
        const stored = v.facts.voter as Voter;
        try {
          return { login: v.login, voter: await lookUpVoter(github, repo, { login: stored.login, id: stored.id, type: stored.isBot ? 'Bot' : 'User' }, decision) };
        } catch (err) {
          if (!(err instanceof LoginNamesAnotherAccount)) throw err;
          // What GitHub says of that login now is another person's: the vote stands on nothing.
          return { login: v.login, voter: { ...stored, permission: 'none' as const, teams: [] }, moved: `${err.message} since voting` };
        }
      }),
    );
    const audit = refreshedVoters.flatMap(({ login, voter: fresh, moved }) => {
      const now = moved ? { eligible: false, reason: moved } : checkEligibility(decision, fresh, options);
      return now.eligible ? [] : [{ type: 'vote_no_longer_counts', actor: APP_ACTOR, facts: { login, reason: now.reason } }];
    });
    return { wouldApprove: true, refreshedVoters, audit, covered: new Set(earlier.map((v) => v.login.toLowerCase())) };
  }

  /** A command comment was deleted: the votes it cast on pending requests stop counting. */
  async withdrawComment(repositoryId: string, commentId: number, actor: string): Promise<void> {
    await this.options.store.withdrawCommentVotes(repositoryId, commentId, actor);
  }

  private approvalOptions(row: ApprovalRequest): ApprovalOptions {
    const facts = row.facts as unknown as RunFacts;
    return { requesters: requestersOf(facts, row.requester), elapsedSeconds: this.elapsedSeconds(row) };
  }

  /** The Action gave up waiting (`timeout`) or its job was cancelled. */
  async cancel(requestId: string, reason: 'timeout' | 'job_cancelled', actor: string): Promise<GateRequest | undefined> {
    await this.complete(requestId, reason === 'timeout'
      ? { status: 'timed_out', reason: 'the step stopped waiting', actor }
      : { status: 'cancelled', reason: 'the job was cancelled', actor });
    return this.view(requestId);
  }

  /** A deadline timer fired. */
  async expire(requestId: string): Promise<void> {
    await this.complete(requestId, { status: 'timed_out', reason: 'deadline' });
  }

  /** How long the request has waited for people: since it was opened, or released by a window. */
  private elapsedSeconds(request: ApprovalRequest): number {
    const since = (request.facts as unknown as RunFacts).waitingSince;
    return Math.max(0, (this.now().getTime() - (since ? Date.parse(since) : request.createdAt.getTime())) / 1000);
  }
}

/** A decision's time escalation timers, one per step of each requirement, counted from when the request started waiting. */
function* escalationTimers(requestId: string, decision: Decision, since: Date): Generator<NewTimer & { key: string }> {
  for (const [index, requirement] of decision.requirements.entries()) {
    for (const [step, escalation] of requirement.scheduled.entries()) {
      yield {
        kind: ESCALATION_TIMER,
        requestId,
        key: `escalation:${requestId}:${index}:${step}`,
        dueAt: new Date(since.getTime() + escalation.afterSeconds * 1000),
        payload: { requirement: index, step, after: escalation.afterSeconds, notify: escalation.notify, location: escalation.location },
      };
    }
  }
}

/** The same escalation in two decisions: the same step, after the same time, notifying the same. */
function escalationIdentity(timer: NewTimer & { key: string }): string {
  const { after, notify } = timer.payload as { after: number; notify: unknown };
  return JSON.stringify([timer.key, after, notify]);
}

function reminderTimer(requestId: string, dueAt: Date, everySeconds: number): NewTimer {
  return { kind: REMINDER_TIMER, requestId, key: `reminder:${requestId}`, dueAt, payload: { every: everySeconds } };
}

/** The first reminder: one interval after `since`, or, for a request that kept waiting, the interval's next after `after`. */
function nextReminder(since: Date, everySeconds: number, after?: Date): Date {
  const intervalMs = everySeconds * 1000;
  const passed = after ? Math.max(0, Math.floor((after.getTime() - since.getTime()) / intervalMs)) : 0;
  return new Date(since.getTime() + (passed + 1) * intervalMs);
}

/** Who started the run, and who re-ran it where that is someone else: an `actor` condition judges both. */
function startersOf(requesters: readonly Requester[], requester: string): Pick<RequestFacts, 'actor' | 'rerunBy'> {
  const rerunBy = requesters.filter((r) => r.role === 're-ran the run').map((r) => r.login);
  return { actor: requesters.find((r) => r.role === 'started the run')?.login ?? requester, ...(rerunBy.length > 0 ? { rerunBy } : {}) };
}

/** How many times a vote looks up earlier approvers again when approvals keep arriving while it is checked. */
const MAX_RECHECKS = 3;

/**
 * A freeze or deploy window in the request's scope started or ended since the request was decided: a
 * vote counted on that decision would approve in a freeze, or outside a deploy window, until the
 * window timer decides it again (later still when GitHub is slow to answer it).
 */
function windowChangedSince(decision: Decision, now: Date): string | undefined {
  const at = decision.windows?.recheckAt;
  if (!at || Date.parse(at) > now.getTime()) return undefined;
  return `a freeze or deploy window in the request's scope started or ended at ${at}, and the request is being decided again; vote again once it is`;
}

/**
 * An override must be written while the request is closed: a comment written before a freeze started
 * or a deploy window closed (an approval of the rules) and delivered after the App decided the request
 * again would otherwise override a window its author never saw. GitHub stamps whole seconds, so only
 * a later second than the closing counts.
 */
function commentBeforeClosing(createdAt: string, windows: readonly string[], decision: Decision): string | undefined {
  const since = decision.windows?.closedSince;
  if (!since) return undefined;
  const written = Math.floor(Date.parse(createdAt) / 1000);
  if (!Number.isNaN(written) && written > Math.floor(Date.parse(since) / 1000)) return undefined;
  const names = windows.map((name) => `\`${name}\``).join(', ');
  return `the comment was written at ${createdAt}, before ${names} closed the request (${since}) or in that second: an approval given before then is not an override; to override, comment \`/approve <reason>\` again`;
}

class DecisionOutdated extends Error {}

/** The votes under the lock would approve with approvers the vote's look-up did not cover. */
class UncheckedApprovers extends Error {
  constructor(readonly logins: string[]) {
    super(`approvers not looked up again: ${logins.join(', ')}`);
  }
}

/**
 * The store's tally callback: the policy library's arithmetic over the voters as last looked up. The
 * request was still pending when this vote came, so no earlier vote completed it; an eligible reject
 * rejects it then, even where a time escalation has since made the earlier approvals enough.
 */
function tally(decision: Decision, votes: readonly StoredVote[], options: ApprovalOptions) {
  const cast = asCast(votes);
  const latest = cast.at(-1);
  if (latest?.verdict === 'reject' && checkEligibility(decision, latest.voter, options).eligible) return 'rejected';
  const result = tallyVotes(decision, cast, options);
  return result.status === 'blocked' ? 'pending' : result.status;
}

/** Stored votes as the policy library's arithmetic takes them. */
const asCast = (votes: readonly StoredVote[]) => countedVotes(votes.map(toGateVote));

function commentFacts(voting: Voting): object {
  return voting.comment ? { comment_id: voting.comment.id, comment_created_at: voting.comment.createdAt } : {};
}

/** What a dashboard user whose session's login now names another account is told to do. */
const SIGN_IN_AGAIN = 'sign in to the dashboard again';

/** Why an earlier attempt's job-level request can no longer be answered. */
function rerunText(runId: string, attempt: number, environment: string): string {
  return `run ${runId} was re-run, and attempt ${attempt} now waits on \`${environment}\`; GitHub would take an answer to this earlier attempt as that one's`;
}

/** The deployment protection rule a stored job-level request answers (none for a step's). */
function deploymentOf(row: ApprovalRequest): DeploymentFacts | undefined {
  return (row.facts as unknown as RunFacts).deployment;
}

/** The start of a deployment protection rule request's job key: its environment, lowercased (then the sha and the deployment). */
function deploymentJobKeyPrefix(environment: string): string {
  return `deployment:${environment.toLowerCase()}:`;
}

/** A request's stored repository name now leads to another repository. */
export class RepositoryNameTaken extends RunContextError {}

/**
 * The request's repository as GitHub names it now. The stored name still leads to it after a rename
 * or transfer (GitHub redirects the old name) until another repository takes that name; reading that
 * one's policy or permissions would let whoever made it decide. So the id decides.
 */
export async function repositoryNow(github: GitHubClient, row: Pick<ApprovalRequest, 'repositoryId'>, facts: Pick<RunFacts, 'owner' | 'repo'>): Promise<RepoCoordinates> {
  const now = await github.repository({ owner: facts.owner, repo: facts.repo });
  if (now.id !== row.repositoryId) {
    throw new RepositoryNameTaken(`${facts.owner}/${facts.repo} is now another repository (id ${now.id}; this request's is ${row.repositoryId}): its repository was renamed or transferred and the name taken since, so nothing about this request is read from it`);
  }
  return { owner: now.owner, repo: now.repo };
}
