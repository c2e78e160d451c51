/**
 * The App in-process, fast enough for ten thousand scenarios: the real Gate and the real store on
 * one in-memory PGlite, with a clock the driver moves, driven through the functions the App's
 * webhook handlers and timer worker call (`processCommandComment`, `Gate.withdrawComment`,
 * `Gate.vote` for a button, `Gate.expire` for a deadline, `Gate.cancel` for the Action's own timeout).
 * What it leaves out: HTTP, webhook signatures and delivery ids, Octokit, and the outbox that shows
 * requests on GitHub (only the approval issue's number, which votes are routed by, is recorded as the
 * outbox would). GitHub is an in-memory `GitHubClient`. `http-world.ts` plays the same scenarios
 * through all of that, against the GitHub double, to show that leaving it out changes nothing.
 */
import pino from 'pino';
import type { Logger } from 'probot';
import { APP_ACTOR, DEADLINE_TIMER, ESCALATION_TIMER, Gate } from '../../app/gate/gate.js';
import { RequestNotifications } from '../../app/gate/notifications.js';
import type { RunIdentity } from '../../app/oidc.js';
import type {
  BranchChanges,
  ChangedFiles,
  CheckRunRef,
  CheckRunState,
  CommentRef,
  Comparison,
  DeploymentInfo,
  GitHubClient,
  GitHubUser,
  IssueComment,
  IssueRef,
  MergedPull,
  PullRequestInfo,
  RepoCoordinates,
  RepositoryNow,
  RepositoryAccess,
  RepositoryPermission,
  WaitingRun,
  WorkflowRunInfo,
} from '../../app/github/github.js';
import type { Installations } from '../../app/github/installations.js';
import { NotificationDispatcher, storeAudit } from '../../app/notify/index.js';
import { openStore, type Store } from '../../app/store/index.js';
import { processCommandComment, type CommandComment } from '../../app/webhooks/comments.js';
import { observeRequest, observeStep } from './observation.js';
import { accountId, codeownersText, commentBody, isBotLogin, policyYaml, TEAMS, type ChaosEvent, type Observation, type Scenario, type Status, type Trace } from './scenario.js';

const OWNER = 'acme';
const DEFAULT_BRANCH_HEAD = 'd'.repeat(40);
const INSTALLATION_ID = 1;

const account = (login: string) => ({ login, id: accountId(login), type: isBotLogin(login) ? 'Bot' : 'User' });

interface FakeRepo {
  id: string;
  files: Record<string, string>;
  permissions: Record<string, RepositoryPermission>;
  pull?: { number: number; headSha: string; testedSha: string; mergeSha: string; author: string; files: string[] };
  nextNumber: number;
}

/** GitHub as the App's one interface to it sees it, for the scenarios' repositories. */
class InMemoryGitHub implements GitHubClient {
  readonly repos = new Map<string, FakeRepo>();

  private repo(r: RepoCoordinates): FakeRepo {
    const found = this.repos.get(`${r.owner}/${r.repo}`);
    if (!found) throw Object.assign(new Error(`no repository ${r.owner}/${r.repo}`), { status: 404 });
    return found;
  }

  async repository(r: RepoCoordinates): Promise<RepositoryNow> {
    return { id: this.repo(r).id, ...r };
  }
  async defaultBranch(): Promise<string> {
    return 'main';
  }
  /** Each scenario's repository is new and its files never change, so one head serves them all. */
  async defaultBranchHead(): Promise<string> {
    return DEFAULT_BRANCH_HEAD;
  }
  async branchHead(): Promise<string | undefined> {
    throw new Error('no scenario has a job-level gate');
  }
  async branchChangesSince(): Promise<BranchChanges> {
    throw new Error('no scenario has a job-level gate');
  }
  /** No scenario changes a pull request's base. */
  async pullBaseChangedAt(): Promise<string | undefined> {
    return undefined;
  }
  async fileAt(r: RepoCoordinates, path: string): Promise<string | undefined> {
    return this.repo(r).files[path];
  }
  async pullRequest(r: RepoCoordinates, number: number): Promise<PullRequestInfo> {
    const pull = this.repo(r).pull;
    if (!pull || pull.number !== number) throw Object.assign(new Error('no such pull request'), { status: 404 });
    return { number, headSha: pull.headSha, headRef: 'feature', baseRef: 'main', defaultBranch: 'main', author: pull.author, authorId: accountId(pull.author), labels: [], htmlUrl: `https://github.test/${r.owner}/${r.repo}/pull/${number}`, createdAt: new Date(0).toISOString() };
  }
  /** A push run's commit in a scenario is never a pull request's merge. */
  async mergedPullsOf(): Promise<MergedPull[]> {
    return [];
  }
  async pullRequestFiles(r: RepoCoordinates): Promise<ChangedFiles> {
    return { files: [...(this.repo(r).pull?.files ?? [])], complete: true };
  }
  async compareFiles(): Promise<Comparison> {
    throw new Error('no scenario compares commits: a push run is the first of its action and environment');
  }
  async runAttemptStarter(): Promise<{ login: string; id: string } | undefined> {
    throw new Error('no scenario re-runs a run: every step is of its first attempt');
  }
  /** A pull request's merge is of its tested head into main as it is: its base adds nothing to the default branch. */
  async commitParents(r: RepoCoordinates, sha: string): Promise<string[]> {
    const pull = this.repo(r).pull;
    return pull && sha === pull.mergeSha ? [DEFAULT_BRANCH_HEAD, pull.testedSha] : [DEFAULT_BRANCH_HEAD];
  }
  async permission(r: RepoCoordinates, login: string): Promise<RepositoryAccess> {
    return { permission: this.repo(r).permissions[login] ?? 'none', account: account(login) };
  }
  async isTeamMember(org: string, slug: string, login: string): Promise<boolean> {
    return (TEAMS[`${org}/${slug}`] ?? []).some((m) => m.toLowerCase() === login.toLowerCase());
  }
  async user(login: string): Promise<GitHubUser> {
    return account(login);
  }
  // Showing requests on GitHub is the outbox's, which this driver does not run.
  createCheckRun = notShown<CheckRunRef>;
  checkRunState = notShown<CheckRunState>;
  findCheckRun = notShown<CheckRunRef | undefined>;
  updateCheckRun = notShown<CheckRunRef>;
  createComment = notShown<CommentRef>;
  listComments = notShown<IssueComment[]>;
  findComment = notShown<CommentRef | undefined>;
  updateComment = notShown<CommentRef>;
  createIssue = notShown<IssueRef>;
  findIssue = notShown<IssueRef | undefined>;
  updateIssue = notShown<void>;
  reviewDeployment = notShown<void>;
  // The scenarios are steps, never job-level gates: the reconciler's reads of waiting runs are not played.
  installationRepositories = notShown<Array<RepoCoordinates & { id: string }>>;
  waitingRuns = notShown<WaitingRun[]>;
  pendingEnvironments = notShown<string[]>;
  protectionRuleApps = notShown<number[]>;
  deployments = notShown<DeploymentInfo[]>;
  /** Every run is a first attempt, made at the start of time: no base change a scenario makes is before it. */
  async workflowRun(): Promise<WorkflowRunInfo> {
    return { attempt: 1, createdAt: new Date(0).toISOString() };
  }
}

async function notShown<T>(): Promise<T> {
  throw new Error('the gate wrote to GitHub itself; only the outbox should');
}

/** A comment as it was delivered, for the deletions and replays that refer back to it. */
interface PostedComment extends CommandComment {
  /** A deleted comment cannot be deleted again; what was delivered for it can still be replayed. */
  deleted: boolean;
}

/** The App's clock, which the scenarios move; it starts a day ahead, so that what the App stamps with real time is already due. */
class Clock {
  now = new Date(Math.floor(Date.now() / 1000) * 1000 + 86_400_000);
  readonly read = () => this.now;
}

export class FastWorld {
  private scenarios = 0;
  private commentIds = 0;

  private constructor(readonly store: Store, readonly gate: Gate, private readonly github: InMemoryGitHub, private readonly clock: Clock) {}

  static async start(): Promise<FastWorld> {
    const clock = new Clock();
    const github = new InMemoryGitHub();
    const store = await openStore({ dataDir: 'memory://', clock: clock.read });
    const log = pino({ level: 'silent' }) as unknown as Logger;
    const installations = {
      forRepository: async () => ({ installationId: INSTALLATION_ID, github }),
      client: async () => github,
      forget: () => undefined,
    } as unknown as Installations;
    const gate = new Gate({
      store,
      installations,
      log,
      now: clock.read,
      notifications: new RequestNotifications(new NotificationDispatcher({ notifiers: new Map(), audit: storeAudit(store), log })),
      notifiersFor: () => new Set(),
    });
    return new FastWorld(store, gate, github, clock);
  }

  async stop(): Promise<void> {
    await this.store.close();
  }

  /** What the timer worker does with deadlines and escalations that are due. */
  private async runTimers(): Promise<void> {
    const due = await this.store.claimDueTimers(this.clock.now, 50, { only: [DEADLINE_TIMER, ESCALATION_TIMER] });
    for (const timer of due) {
      if (timer.kind === DEADLINE_TIMER && timer.requestId) await this.gate.expire(timer.requestId);
      if (timer.kind === ESCALATION_TIMER && timer.requestId) await this.gate.escalate(timer.requestId, timer.payload);
      await this.store.completeTimer(timer);
    }
  }

  /** Runs one scenario in a repository of its own and reports what the App did after each event. */
  async play(scenario: Scenario): Promise<Trace> {
    const n = ++this.scenarios;
    const repoName = `chaos-${n}`;
    const repository = `${OWNER}/${repoName}`;
    const repositoryId = String(7_000_000 + n);
    const { run } = scenario;
    const pull = run.kind === 'pull';
    const sha = (tag: string) => `${tag}${n.toString(16)}`.padEnd(40, '0').slice(0, 40);
    const fake: FakeRepo = {
      id: repositoryId,
      files: { '.github/jit-approval.yml': policyYaml(scenario.policy), '.github/CODEOWNERS': codeownersText(scenario.codeowners) },
      permissions: { ...scenario.permissions },
      pull: pull ? { number: 1, headSha: sha('c1'), testedSha: sha('c1'), mergeSha: sha('m1'), author: run.author, files: [...run.files] } : undefined,
      nextNumber: pull ? 2 : 1,
    };
    this.github.repos.set(repository, fake);
    const identity: RunIdentity = {
      subject: `repo:${repository}:environment:production`,
      repository,
      repositoryId,
      repositoryOwner: OWNER,
      ref: pull ? 'refs/pull/1/merge' : 'refs/heads/main',
      sha: pull ? sha('m1') : sha('a1'),
      actor: run.actor,
      actorId: accountId(run.actor),
      runId: String(n),
      runAttempt: '1',
      eventName: pull ? 'pull_request' : 'push',
      environment: 'production',
      checkRunId: String(n),
    };
    const openedAt = new Date(this.clock.now);
    const request = await this.gate.open(identity, { action: 'deploy', environment: 'production', ...(run.severity ? { severity: run.severity } : {}) });
    // The outbox opens an approval issue for a waiting request without a pull request, and records its number.
    let thread: number | undefined = pull ? 1 : undefined;
    if (!pull && request.status === 'pending') {
      thread = fake.nextNumber++;
      await this.store.updateRequest(request.id, { issueNumber: thread, issueUrl: `https://github.test/${repository}/issues/${thread}` });
    }
    const opened: Observation = { status: request.status as Status, votes: request.votes.map((v) => ({ login: v.login, choice: v.choice })) };
    // Nobody answers within the second a request opened (a comment stamped with it may predate it).
    this.clock.now = new Date(this.clock.now.getTime() + 1000);

    const comments: PostedComment[] = [];
    let pushes = 0;
    const pick = (i: number) => (comments.length === 0 ? undefined : comments[i % comments.length]);

    /** Returns whether the App was called at all (if not, nothing can have changed). */
    const act = async (event: ChaosEvent): Promise<boolean> => {
      switch (event.kind) {
        case 'comment':
        case 'early-comment': {
          // A decided request without a pull request never got an approval issue: there is nowhere to comment.
          if (thread === undefined) return false;
          const createdAt = (event.kind === 'early-comment' ? new Date(openedAt.getTime() - 60_000) : this.clock.now).toISOString().replace(/\.\d{3}Z$/, 'Z');
          const comment: PostedComment = { repositoryId, repository: { owner: OWNER, repo: repoName }, issueNumber: thread, id: ++this.commentIds, body: commentBody(event.says), createdAt, author: account(event.by), deleted: false };
          comments.push(comment);
          await processCommandComment(this.gate, this.store, comment);
          return true;
        }
        case 'edit':
          // The App acts on no `issue_comment.edited` delivery: only new comments vote.
          return false;
        case 'delete': {
          const comment = pick(event.target);
          if (!comment || comment.deleted) return false;
          comment.deleted = true;
          await this.gate.withdrawComment(repositoryId, comment.id, comment.author.login);
          return true;
        }
        case 'replay': {
          // The same comment again, as a replay under a new delivery id, or the reconciler finding it, would bring it.
          const comment = pick(event.target);
          if (!comment) return false;
          await processCommandComment(this.gate, this.store, comment);
          return true;
        }
        case 'button': {
          const who = account(event.by);
          await this.gate.vote({
            requestId: request.id,
            login: who.login,
            senderId: who.id,
            senderType: who.type,
            choice: event.choice,
            note: event.choice === 'reject' ? 'rejected with the check run button' : '',
            via: 'button',
          });
          return true;
        }
        case 'revoke':
          fake.permissions[event.who] = 'none';
          return false;
        case 'push':
          if (fake.pull) fake.pull.headSha = sha(`c${++pushes + 1}`);
          return false;
        case 'wait':
          this.clock.now = new Date(this.clock.now.getTime() + event.minutes * 60_000);
          return false;
        case 'tick':
          await this.runTimers();
          return true;
        case 'give-up':
          await this.gate.cancel(request.id, 'timeout', run.actor);
          return true;
      }
    };

    const steps: Observation[] = [];
    let last = opened;
    for (const event of scenario.events) {
      // Once decided, nothing may change; the final observation below checks that it did not.
      if ((await act(event)) && last.status === 'pending') {
        const { status, votes } = await observeStep(this.store, request);
        last = { status, votes };
      }
      steps.push(last);
    }
    await this.runTimers();
    const final = await observeRequest(this.store, request.id);
    // Nothing of this scenario may linger into the next one's timers.
    if (final.status === 'pending') await this.gate.cancel(request.id, 'job_cancelled', APP_ACTOR);
    return { opened, steps, final };
  }
}
