/**
 * The request lifecycle: open (evaluate the policy against GitHub's facts), vote, cancel, expire.
 * Every path that cannot establish a decision fails closed: the request becomes `failed` with a
 * message saying what is wrong, never `approved`.
 */
import type { Logger } from 'probot';
import { checkEligibility, tallyVotes, type Voter } from '../../policies/approval.js';
import type { Decision } from '../../policies/decision.js';
import { evaluate } from '../../policies/evaluate.js';
import { BUILT_IN_DEFAULTS } from '../../policies/loader.js';
import type { RequestFacts } from '../../policies/types.js';
import type { GitHubClient } from '../github/github.js';
import type { Installations } from '../github/installations.js';
import type { RunIdentity } from '../oidc.js';
import type { ApprovalRequest, Store, Vote as StoredVote, VoteChoice } from '../store/store.js';
import { approverStrings } from '../notify/index.js';
import type { RequestNotifications } from './notifications.js';
import { loadPolicyInputs } from './policy-source.js';
import type { Publisher } from './publisher.js';
import { toGateRequest, type GateRequest, type RequestInput, type RunFacts } from './request.js';
import { loadRunContext, RunContextError } from './run-context.js';
import { lookUpVoter } from './voters.js';

/** The actor recorded for what the App decides on its own. */
export const APP_ACTOR = 'app';
export const DEADLINE_TIMER = 'deadline';
export const ESCALATION_TIMER = 'escalation';
export const REMINDER_TIMER = 'reminder';

export class InputError extends Error {}

export interface GateOptions {
  store: Store;
  installations: Installations;
  publisher: Publisher;
  log: Logger;
  now?: () => Date;
  notifications: RequestNotifications;
  /** Notifier names configured on the App, which policies may name. */
  knownNotifiers: ReadonlySet<string>;
  /** Called when a request reaches a final status, for metrics. */
  onCompleted?: (request: ApprovalRequest) => void;
}

export interface Voting {
  requestId: string;
  login: string;
  /** The webhook sender's account type, when the event carried it. */
  senderType?: string;
  choice: VoteChoice;
  note: string;
  via: 'comment' | 'button';
}

export type VoteOutcome = { counted: true; request: GateRequest } | { counted: false; why: string };

export class Gate {
  private readonly now: () => Date;

  constructor(private readonly options: GateOptions) {
    this.now = options.now ?? (() => new Date());
  }

  async view(requestId: string): Promise<GateRequest | undefined> {
    const row = await this.options.store.getRequest(requestId);
    return row && toGateRequest(row, await this.options.store.listVotes(row.id));
  }

  /** Creates the request for this run and action, or reattaches to it (a retried step). */
  async open(run: RunIdentity, input: RequestInput): Promise<GateRequest> {
    const { store } = this.options;
    const key = { repositoryId: run.repositoryId, runId: run.runId, runAttempt: run.runAttempt, action: input.action };
    const existing = await store.findRequest(key);
    if (existing) return (await this.view(existing.id))!;

    // The job's `environment:` is in the token; the Action's input may only repeat it.
    if (run.environment && input.environment && run.environment !== input.environment) {
      throw new InputError(`environment "${input.environment}" does not match this job's environment "${run.environment}"`);
    }
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
      environment: run.environment ?? input.environment,
      severity: input.severity,
      summary: input.summary,
      timeoutSeconds: input.timeoutSeconds,
    };
    const created = this.now();
    // A deadline from the start: if this replica dies before deciding, the request still ends.
    const provisional = new Date(created.getTime() + 1000 * (input.timeoutSeconds ?? BUILT_IN_DEFAULTS.timeoutSeconds));
    const { created: isNew, request } = await store.createRequest({
      ...key,
      repository: run.repository,
      requester: run.actor,
      facts,
      deadline: provisional,
    });
    if (isNew) await this.decide(request, run, github, facts);
    return (await this.view(request.id))!;
  }

  private async decide(request: ApprovalRequest, run: RunIdentity, github: GitHubClient, facts: RunFacts): Promise<void> {
    try {
      await this.evaluate(request, run, github, facts);
    } catch (err) {
      const why = err instanceof RunContextError ? err.message : `could not establish the facts for a decision: ${(err as Error).message}`;
      this.options.log.error({ err, requestId: request.id }, 'request evaluation failed');
      await this.complete(request.id, { status: 'failed', reason: why });
    }
    await this.publishOrFail(request.id);
    const shown = await this.view(request.id);
    if (shown?.status === 'pending') this.options.notifications.requested(shown);
  }

  private async evaluate(request: ApprovalRequest, run: RunIdentity, github: GitHubClient, facts: RunFacts): Promise<void> {
    const { store } = this.options;
    const repo = { owner: facts.owner, repo: facts.repo };
    const defaultBranch = await github.defaultBranch(repo);
    const [context, inputs] = await Promise.all([loadRunContext(github, repo, run, defaultBranch), loadPolicyInputs(github, repo, defaultBranch, this.options.knownNotifiers)]);
    const updatedFacts: RunFacts = { ...facts, headSha: context.headSha };
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
      severity: facts.severity,
      event: run.eventName,
      actor: run.actor,
      labels: context.labels,
      changedFiles: context.changedFiles,
    };
    const decision = evaluate(inputs.policy, requestFacts, { codeowners: inputs.codeowners });
    const timeout = Math.min(decision.timeoutSeconds, facts.timeoutSeconds ?? Infinity);
    await store.updateRequest(request.id, {
      decision,
      facts: { ...updatedFacts, problems: decision.problems },
      deadline: new Date(request.createdAt.getTime() + timeout * 1000),
      ...(context.pull ? { prNumber: context.pull.number } : {}),
    });
    if (decision.outcome === 'approval_required') {
      await this.scheduleEscalations(request, decision);
      if (decision.reminderSeconds) await this.scheduleReminder(request.id, new Date(request.createdAt.getTime() + decision.reminderSeconds * 1000), decision.reminderSeconds);
    }
    if (decision.outcome === 'auto_approve') await this.complete(request.id, { status: 'approved', reason: 'auto' });
    if (decision.outcome === 'blocked') await this.complete(request.id, { status: 'failed', reason: decision.problems.join('; ') || decision.summary });
  }

  /** Time escalations (`after: 30m`) widen who may approve; a timer re-publishes so the new approvers are mentioned. */
  private async scheduleEscalations(request: ApprovalRequest, decision: Decision): Promise<void> {
    for (const [index, requirement] of decision.requirements.entries()) {
      for (const [step, escalation] of requirement.scheduled.entries()) {
        await this.options.store.scheduleTimer({
          kind: ESCALATION_TIMER,
          requestId: request.id,
          key: `escalation:${request.id}:${index}:${step}`,
          dueAt: new Date(request.createdAt.getTime() + escalation.afterSeconds * 1000),
          payload: { requirement: index, step, after: escalation.afterSeconds, notify: escalation.notify, location: escalation.location },
        });
      }
    }
  }

  /**
   * A request has one reminder timer, under one key: scheduling it again replaces it (and takes it
   * back from the replica that claimed it), and completing the request deletes it with the others.
   */
  private async scheduleReminder(requestId: string, dueAt: Date, everySeconds: number): Promise<void> {
    await this.options.store.scheduleTimer({ kind: REMINDER_TIMER, requestId, key: `reminder:${requestId}`, dueAt, payload: { every: everySeconds } });
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
    // reminder, never send it twice. Past the deadline the request ends, so none is needed.
    if (!row.deadline || next < row.deadline) await this.scheduleReminder(requestId, next, every);
    this.options.notifications.reminder(request);
  }

  /** An escalation timer fired: record it and show the widened requirement while the request still waits. */
  async escalate(requestId: string, facts: Record<string, unknown>): Promise<void> {
    const row = await this.options.store.getRequest(requestId);
    if (row?.status !== 'pending') return;
    await this.options.store.appendAudit({ type: 'escalated', actor: APP_ACTOR, requestId, facts });
    const request = await this.options.publisher.publish(requestId);
    const escalation = request?.decision?.requirements[Number(facts.requirement)]?.scheduled[Number(facts.step)];
    if (request && escalation) this.options.notifications.escalated(request, approverStrings(escalation.approvers), escalation.notify);
  }

  /** A pending request nobody can see on GitHub cannot be approved fairly: fail it, then try to show that. */
  private async publishOrFail(requestId: string): Promise<void> {
    try {
      await this.options.publisher.publish(requestId);
    } catch (err) {
      this.options.log.error({ err, requestId }, 'could not publish the request on GitHub');
      const completed = await this.complete(requestId, { status: 'failed', reason: `could not show the request on GitHub: ${(err as Error).message}` });
      if (completed) await this.options.publisher.publish(requestId).catch(() => undefined);
    }
  }

  private async complete(requestId: string, completion: { status: 'approved' | 'failed' | 'timed_out' | 'cancelled'; reason: string; actor?: string; auditType?: string; facts?: object }): Promise<boolean> {
    const result = await this.options.store.completeRequest(requestId, { actor: APP_ACTOR, ...completion });
    if (result?.changed) await this.completed(result.request);
    return result?.changed ?? false;
  }

  /** Exactly one caller sees each request complete; it counts it and tells the notifiers. */
  private async completed(request: ApprovalRequest): Promise<void> {
    this.options.onCompleted?.(request);
    const decided = await this.view(request.id);
    if (decided) this.options.notifications.decided(decided);
  }

  async vote(voting: Voting): Promise<VoteOutcome> {
    const { store, installations } = this.options;
    const row = await store.getRequest(voting.requestId);
    if (!row) return { counted: false, why: 'there is no such request' };
    if (row.status !== 'pending') return { counted: false, why: `the request is already ${row.status.replace('_', ' ')}` };
    const decision = row.decision as unknown as Decision | null;
    if (!decision) return { counted: false, why: 'the request is still being evaluated; try again in a moment' };
    const facts = row.facts as unknown as RunFacts;
    const github = await installations.client(facts.installationId);
    const voter = await lookUpVoter(github, { owner: facts.owner, repo: facts.repo }, voting.login, voting.senderType, decision);
    const approvalOptions = { requester: row.requester, elapsedSeconds: this.elapsedSeconds(row) };
    const eligibility = checkEligibility(decision, voter, approvalOptions);
    if (!eligibility.eligible) {
      await store.appendAudit({ type: 'vote_refused', actor: voting.login, requestId: row.id, facts: { choice: voting.choice, via: voting.via, reason: eligibility.reason } });
      return { counted: false, why: eligibility.reason };
    }
    const result = await store.castVote({
      requestId: row.id,
      login: voter.login,
      choice: voting.choice,
      note: voting.note,
      via: voting.via,
      facts: { voter, eligibleFor: eligibility.requirements },
      tally: (votes, current) => tally(decision, votes, current, this.elapsedSeconds(current)),
    });
    switch (result.outcome) {
      case 'not_found':
        return { counted: false, why: 'there is no such request' };
      case 'closed':
        await this.publishQuietly(row.id);
        // A late vote after a missed deadline: this call timed the request out, so it counts it once.
        if (result.completed) await this.completed(result.request);
        return { counted: false, why: `the request is already ${result.request.status.replace('_', ' ')}` };
      case 'duplicate':
        return { counted: false, why: 'you have already voted on this request; each person counts once' };
      case 'recorded':
        await this.publishQuietly(row.id);
        if (result.completed) await this.completed(result.request);
        return { counted: true, request: (await this.view(row.id))! };
    }
  }

  /** The Action gave up waiting (`timeout`) or its job was cancelled. */
  async cancel(requestId: string, reason: 'timeout' | 'job_cancelled', actor: string): Promise<GateRequest | undefined> {
    const completed = await this.complete(requestId, reason === 'timeout'
      ? { status: 'timed_out', reason: 'the step stopped waiting', actor }
      : { status: 'cancelled', reason: 'the job was cancelled', actor });
    if (completed) await this.publishQuietly(requestId);
    return this.view(requestId);
  }

  /** A deadline timer fired. */
  async expire(requestId: string): Promise<void> {
    await this.complete(requestId, { status: 'timed_out', reason: 'deadline' });
    // Publish even when already final: a retried timer after a failed publish must still reach GitHub.
    await this.options.publisher.publish(requestId);
  }

  private elapsedSeconds(request: ApprovalRequest): number {
    return Math.max(0, (this.now().getTime() - request.createdAt.getTime()) / 1000);
  }

  /** The vote is already durable; a GitHub hiccup while showing it must not lose or undo it. */
  private async publishQuietly(requestId: string): Promise<void> {
    await this.options.publisher.publish(requestId).catch((err) => this.options.log.error({ err, requestId }, 'could not update GitHub'));
  }
}

/** The store's tally callback: the policy library's arithmetic over the voters as they were when they voted. */
function tally(decision: Decision, votes: readonly StoredVote[], request: ApprovalRequest, elapsedSeconds: number) {
  const result = tallyVotes(
    decision,
    votes.map((vote) => ({ voter: vote.facts.voter as Voter, verdict: vote.choice })),
    { requester: request.requester, elapsedSeconds },
  );
  return result.status === 'blocked' ? 'pending' : result.status;
}
