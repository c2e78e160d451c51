/** All of the double's state, in memory, with deterministic ids, plus the domain operations that change it. */
import { ancestry, commitSha } from './git.js';
import { oauthCredentials } from './oauth.js';
import { nodeId } from './shapes.js';
import { ancestorsOf, assertHierarchy } from './teams.js';
import {
  PERMISSION_ORDER,
  type Activity, type App, type CheckRun, type CheckRunAction, type Comment, type Commit, type DeploymentReview, type FileMap,
  type Installation, type Issue, type Permission, type Pull, type Reaction, type ReactionContent, type Repo,
  type Seed, type SeedRepo, type Team, type TokenGrant, type User,
} from './types.js';

/** The `before` of a push that created its branch. */
export const NO_COMMIT = '0'.repeat(40);

export function timestamp(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A state change that GitHub would announce with a webhook; the webhook layer adds repository, sender and installation. */
export interface DomainEvent {
  name: string;
  action?: string;
  repo: Repo | null;
  /** Account whose installations receive the event when there is no repository (installation events). */
  account?: User;
  sender: User;
  appId?: number;
  body: Record<string, unknown>;
}

const DEFAULT_APP_PERMISSIONS: Record<string, 'read' | 'write'> = {
  checks: 'write', issues: 'write', pull_requests: 'write', contents: 'read', metadata: 'read',
  members: 'read', actions: 'read', deployments: 'write',
};

/** Distinct starting points keep ids of different kinds from colliding, as on GitHub. */
const ID_BASES = {
  user: 1000, repo: 5000, team: 200, issue: 3_000_000, comment: 9_000_000, reaction: 4_000_000,
  checkRun: 7_000_000, checkSuite: 6_000_000, pull: 2_000_000, installation: 40_000, token: 1, activity: 8_000_000, issueEvent: 11_000_000,
};

export interface IssueEvent {
  id: number;
  repoId: number;
  issueNumber: number;
  actor: User;
  event: 'base_ref_changed';
  createdAt: string;
}

export interface PendingGate {
  repoId: number;
  runId: number;
  environment: string;
  appId: number;
  reports: number;
  /** The run's attempt, who started the run and who started this attempt, the event, and the deployment GitHub made for the job (as the webhook carried it). */
  attempt: number;
  actor: string;
  triggeringActor: string;
  event: string;
  deployment: { id: number; sha: string; ref: string; [field: string]: unknown };
  /** The pull requests GitHub lists for the run (`pull-request-minimal`). */
  pullRequests: unknown[];
}

/** One attempt of a workflow run, as the runner's token issuer saw it: who started the run, and who started this attempt. */
export interface RunAttempt {
  repoId: number;
  runId: number;
  attempt: number;
  actor: string;
  triggeringActor: string;
  sha: string;
  ref: string;
  event: string;
  /** When the attempt started (GitHub's `run_started_at`). */
  startedAt: string;
}

export class DoubleState {
  readonly users = new Map<string, User>();
  readonly repos = new Map<string, Repo>();
  /** A renamed repository's earlier names (lower-cased), which lead to it until another repository takes them. */
  private readonly formerNames = new Map<string, number>();
  readonly teams = new Map<string, Team>();
  readonly apps = new Map<number, App>();
  readonly installations = new Map<number, Installation>();
  readonly tokens = new Map<string, TokenGrant>();
  readonly issues = new Map<number, Map<number, Issue>>();
  readonly pulls = new Map<number, Map<number, Pull>>();
  readonly comments = new Map<number, Comment>();
  readonly reactions: Reaction[] = [];
  readonly checkRuns = new Map<number, CheckRun>();
  readonly deploymentReviews: DeploymentReview[] = [];
  /** Deployment protection rules announced to an App and not yet answered through the callback, with the status reports made on each. */
  readonly pendingGates: PendingGate[] = [];
  /** Deployment protection rules answered, or whose attempt ended before they were (re-run): answering again is refused (422). */
  readonly decidedGates: PendingGate[] = [];
  /** Attempts of runs whose jobs asked for an ID token, by `repoId:runId:attempt`. */
  readonly runAttempts = new Map<string, RunAttempt>();
  /** The issue events the double records: a pull request's base changed (`base_ref_changed`). */
  readonly issueEvents: IssueEvent[] = [];
  private readonly counters = new Map<keyof typeof ID_BASES, number>();
  private readonly issueNumbers = new Map<number, number>();
  private readonly checkSuites = new Map<string, number>();

  constructor(seed: Seed, private readonly emit: (event: DomainEvent) => void) {
    this.applySeed(seed);
  }

  nextId(kind: keyof typeof ID_BASES): number {
    const next = (this.counters.get(kind) ?? ID_BASES[kind]) + 1;
    this.counters.set(kind, next);
    return next;
  }

  /** Keeps another state's tokens (and its token serial, so new tokens stay unique). */
  adoptTokens(previous: DoubleState): void {
    for (const [token, grant] of previous.tokens) this.tokens.set(token, grant);
    this.counters.set('token', previous.counters.get('token') ?? ID_BASES.token);
  }

  // ---- seeding -------------------------------------------------------------------------------

  applySeed(seed: Seed): void {
    for (const u of seed.users ?? []) {
      const existing = this.users.get(u.login.toLowerCase());
      if (existing) Object.assign(existing, { type: u.type ?? existing.type, name: u.name ?? existing.name, email: u.email ?? existing.email });
      else this.addUser(u.login, u.type ?? (u.login.endsWith('[bot]') ? 'Bot' : 'User'), u.id, u.name, u.email);
    }
    for (const r of seed.repos ?? []) this.addRepo(r);
    for (const t of seed.teams ?? []) {
      const org = this.ensureUser(t.org, 'Organization');
      const team: Team = {
        id: this.nextId('team'), org: org.login, slug: t.slug, name: t.name ?? t.slug, members: new Map(), pending: new Map(),
        parent: t.parent ?? null, repos: new Map(),
      };
      for (const m of t.members ?? []) team.members.set(this.ensureUser(m).login.toLowerCase(), 'member');
      for (const m of t.maintainers ?? []) team.members.set(this.ensureUser(m).login.toLowerCase(), 'maintainer');
      for (const m of t.pending ?? []) team.pending.set(this.ensureUser(m).login.toLowerCase(), 'member');
      for (const [name, permission] of Object.entries(t.repos ?? {})) team.repos.set(name.toLowerCase(), permission);
      this.teams.set(`${org.login}/${t.slug}`.toLowerCase(), team);
    }
    assertHierarchy(this.teams);
    for (const a of seed.apps ?? []) {
      const slug = a.slug ?? `app-${a.id}`;
      const app: App = {
        id: a.id, slug, name: a.name ?? slug, owner: this.ensureUser(a.owner ?? 'github-double-apps', 'Organization'),
        bot: this.ensureUser(`${slug}[bot]`, 'Bot'), publicKey: a.publicKey, webhook: a.webhook ?? null,
        events: a.events ?? null, permissions: a.permissions ?? { ...DEFAULT_APP_PERMISSIONS }, createdAt: timestamp(),
        ...oauthCredentials(a.id, a.publicKey), callbackUrls: a.callbackUrls ?? [],
      };
      this.apps.set(app.id, app);
    }
    for (const i of seed.installations ?? []) {
      this.addInstallation({ ...i, appId: i.appId ?? this.defaultAppId() });
    }
  }

  defaultAppId(): number {
    const first = this.apps.keys().next();
    if (first.done) throw new Error('seed an App before installations');
    return first.value;
  }

  addUser(login: string, type: User['type'] = 'User', id?: number, name?: string, email?: string): User {
    const user: User = { id: id ?? this.nextId('user'), login, type, name: name ?? null, email: email ?? null, createdAt: timestamp() };
    this.users.set(login.toLowerCase(), user);
    return user;
  }

  /**
   * GitHub's account rename: the account keeps its id, access and team memberships under its new
   * login, and the old login is free for anyone to take. Throws when `to` is taken.
   */
  renameUser(from: string, to: string): User {
    const user = this.users.get(from.toLowerCase());
    if (!user) throw new Error(`unknown user ${from}`);
    if (this.users.has(to.toLowerCase())) throw new Error(`the login ${to} is taken`);
    const [old, now] = [from.toLowerCase(), to.toLowerCase()];
    const rekey = <V>(map: Map<string, V>) => {
      const value = map.get(old);
      if (value === undefined) return;
      map.delete(old);
      map.set(now, value);
    };
    this.users.delete(old);
    user.login = to;
    this.users.set(now, user);
    for (const repo of this.repos.values()) rekey(repo.collaborators);
    for (const team of this.teams.values()) {
      rekey(team.members);
      rekey(team.pending);
    }
    return user;
  }

  ensureUser(login: string, type?: User['type']): User {
    return this.users.get(login.toLowerCase()) ?? this.addUser(login, type ?? (login.endsWith('[bot]') ? 'Bot' : 'User'));
  }

  addRepo(seed: SeedRepo): Repo {
    const owner = this.ensureUser(seed.owner);
    const defaultBranch = seed.defaultBranch ?? 'main';
    const repo: Repo = {
      id: seed.id ?? this.nextId('repo'), owner, name: seed.name, fullName: `${owner.login}/${seed.name}`,
      private: seed.private ?? true, defaultBranch, hasIssues: seed.hasIssues ?? true, branches: new Map(), tags: new Map(), commits: new Map(), activities: [], collaborators: new Map(),
      createdAt: timestamp(), pushedAt: timestamp(),
    };
    this.repos.set(repo.fullName.toLowerCase(), repo);
    this.issues.set(repo.id, new Map());
    this.pulls.set(repo.id, new Map());
    const branches = seed.branches ?? {};
    this.commit(repo, defaultBranch, branches[defaultBranch] ?? {}, 'Initial commit', owner.login, null);
    for (const [branch, files] of Object.entries(branches)) {
      if (branch !== defaultBranch) this.commit(repo, branch, files, `Changes on ${branch}`, owner.login, repo.branches.get(defaultBranch) ?? null);
    }
    for (const [login, permission] of Object.entries(seed.collaborators ?? {})) {
      repo.collaborators.set(this.ensureUser(login).login.toLowerCase(), permission);
    }
    for (const i of seed.issues ?? []) {
      const issue = this.createIssue(repo, this.ensureUser(i.user), { title: i.title, body: i.body ?? null, labels: i.labels ?? [], number: i.number });
      if (i.state === 'closed') Object.assign(issue, { state: 'closed', stateReason: 'completed', closedAt: timestamp() });
    }
    for (const p of seed.pulls ?? []) {
      const pull = this.openPull(repo, this.ensureUser(p.user), { title: p.title, head: p.head, base: p.base, body: p.body, draft: p.draft, number: p.number, labels: p.labels }, { notify: false });
      if (p.state === 'closed') Object.assign(this.issue(repo, pull.number) as Issue, { state: 'closed', closedAt: timestamp() });
    }
    return repo;
  }

  addInstallation(spec: { id?: number; appId: number; account: string; repositories?: string[]; permissions?: Record<string, 'read' | 'write'> }): Installation {
    const app = this.apps.get(spec.appId);
    if (!app) throw new Error(`unknown app ${spec.appId}`);
    const account = this.ensureUser(spec.account, 'Organization');
    const repositories = spec.repositories
      ? new Set(spec.repositories.map((name) => {
        const repo = this.repo(account.login, name);
        if (!repo) throw new Error(`installation of ${spec.account}: unknown repository ${name}`);
        return repo.id;
      }))
      : 'all' as const;
    const installation: Installation = {
      id: spec.id ?? this.nextId('installation'), appId: app.id, account, repositories,
      permissions: spec.permissions ?? { ...app.permissions }, createdAt: timestamp(),
    };
    this.installations.set(installation.id, installation);
    return installation;
  }

  // ---- lookups -------------------------------------------------------------------------------

  user(login: string): User | undefined {
    return this.users.get(login.toLowerCase());
  }

  /** The repository a name leads to: GitHub answers a renamed repository's old name with a redirect to it, which Octokit follows. */
  repo(owner: string, name: string): Repo | undefined {
    const fullName = `${owner}/${name}`.toLowerCase();
    const formerly = this.formerNames.get(fullName);
    return this.repos.get(fullName) ?? (formerly === undefined ? undefined : this.repoById(formerly));
  }

  /**
   * Renames a repository: the same repository (id, issues, commits) under a new name; its old name is
   * free to be taken. Announced as `repository.renamed`, whose repository has the new name.
   */
  rename(repo: Repo, name: string, by: User = repo.owner): void {
    const fullName = `${repo.owner.login}/${name}`;
    if (this.repos.has(fullName.toLowerCase())) throw new Error(`${fullName} exists`);
    const from = repo.name;
    this.repos.delete(repo.fullName.toLowerCase());
    this.formerNames.set(repo.fullName.toLowerCase(), repo.id);
    repo.name = name;
    repo.fullName = fullName;
    this.repos.set(fullName.toLowerCase(), repo);
    this.emit({ name: 'repository', action: 'renamed', repo, sender: by, body: { changes: { repository: { name: { from } } } } });
  }

  repoByFullName(fullName: string): Repo {
    const repo = this.repos.get(fullName.toLowerCase());
    if (!repo) throw new Error(`unknown repository ${fullName}`);
    return repo;
  }

  repoById(id: number): Repo | undefined {
    return [...this.repos.values()].find((r) => r.id === id);
  }

  /** Branch name, `refs/heads/…`, `refs/pull/N/head|merge`, or a (possibly abbreviated) commit SHA. */
  resolveRef(repo: Repo, ref: string): Commit | undefined {
    const pullRef = /^refs\/pull\/(\d+)\/(head|merge)$/.exec(ref);
    if (pullRef) {
      const pull = this.pulls.get(repo.id)?.get(Number(pullRef[1]));
      return pull && repo.commits.get(pullRef[2] === 'head' ? pull.headSha : pull.mergeSha);
    }
    if (ref.startsWith('refs/heads/')) return this.commitAt(repo, repo.branches.get(ref.slice('refs/heads/'.length)));
    if (ref.startsWith('refs/tags/')) return this.commitAt(repo, repo.tags.get(ref.slice('refs/tags/'.length)));
    // A bare name is looked up as git does (gitrevisions(7)): a tag of that name before a branch of it.
    const named = repo.tags.get(ref) ?? repo.branches.get(ref);
    if (named) return repo.commits.get(named);
    if (/^[0-9a-f]{7,40}$/.test(ref)) return [...repo.commits.values()].find((c) => c.sha.startsWith(ref));
    return undefined;
  }

  private commitAt(repo: Repo, sha: string | undefined): Commit | undefined {
    return sha === undefined ? undefined : repo.commits.get(sha);
  }

  installationFor(repo: Repo, appId?: number): Installation | undefined {
    return [...this.installations.values()].find((i) => (appId === undefined || i.appId === appId)
      && i.account.id === repo.owner.id && (i.repositories === 'all' || i.repositories.has(repo.id)));
  }

  installationRepos(installation: Installation): Repo[] {
    return [...this.repos.values()].filter((r) => r.owner.id === installation.account.id
      && (installation.repositories === 'all' || installation.repositories.has(r.id)));
  }

  team(org: string, slug: string): Team | undefined {
    return this.teams.get(`${org}/${slug}`.toLowerCase());
  }

  /** Highest of: owner (admin), direct collaborator, and the teams the user is an active member of (with their parents' grants). */
  permissionOf(repo: Repo, login: string): Permission | 'none' {
    const key = login.toLowerCase();
    if (repo.owner.login.toLowerCase() === key) return 'admin';
    const grants: Permission[] = [];
    const direct = repo.collaborators.get(key);
    if (direct) grants.push(direct);
    for (const team of this.teams.values()) {
      if (team.org.toLowerCase() !== repo.owner.login.toLowerCase() || !team.members.has(key)) continue;
      for (const granting of [team, ...ancestorsOf(this.teams, team)]) {
        const viaTeam = granting.repos.get(repo.name.toLowerCase());
        if (viaTeam) grants.push(viaTeam);
      }
    }
    if (!grants.length) return 'none';
    return grants.reduce((a, b) => (PERMISSION_ORDER.indexOf(a) >= PERMISSION_ORDER.indexOf(b) ? a : b));
  }

  issue(repo: Repo, number: number): Issue | undefined {
    return this.issues.get(repo.id)?.get(number);
  }

  pull(repo: Repo, number: number): Pull | undefined {
    return this.pulls.get(repo.id)?.get(number);
  }

  // ---- git -----------------------------------------------------------------------------------

  /**
   * Adds a commit on `branch` (created from `parent` if new); `files` overlay the parent's tree, null deletes.
   * Recorded as a push of that one commit (a `branch_creation` when the branch is new) unless `record` is false.
   */
  commit(repo: Repo, branch: string, files: FileMap, message: string, author: string, parent?: string | null, record = true): Commit {
    const before = repo.branches.get(branch) ?? NO_COMMIT;
    const parentSha = parent === undefined ? repo.branches.get(branch) ?? repo.branches.get(repo.defaultBranch) ?? null : parent;
    const tree = new Map(parentSha ? repo.commits.get(parentSha)?.files : undefined);
    for (const [path, content] of Object.entries(files)) {
      if (content === null) tree.delete(path);
      else tree.set(path, content);
    }
    const parents = parentSha ? [parentSha] : [];
    const sha = commitSha({ parents, message, author, files: tree, salt: `${repo.fullName}:${branch}:${repo.commits.size}` });
    const commit: Commit = { sha, parents, message, author, date: timestamp(), files: tree };
    repo.commits.set(sha, commit);
    repo.branches.set(branch, sha);
    repo.pushedAt = commit.date;
    if (record) this.recordActivity(repo, branch, before, sha, author);
    for (const pull of this.pulls.get(repo.id)?.values() ?? []) {
      if ((pull.headRef === branch && pull.headRepoId === undefined) || pull.baseRef === branch) this.refreshPullCommits(repo, pull);
    }
    for (const [parent, pull] of this.pullsFromFork(repo)) if (pull.headRef === branch) this.refreshPullCommits(parent, pull);
    return commit;
  }

  /** A fork of `repo` owned by `owner`: its own branches (those of `repo` as they are), the same commits, as GitHub keeps a fork's objects in one network with its parent's. */
  fork(repo: Repo, owner: User): Repo {
    const fullName = `${owner.login}/${repo.name}`;
    if (this.repos.has(fullName.toLowerCase())) throw new Error(`${fullName} exists`);
    // A fork starts with its issues off, as on GitHub.
    const fork: Repo = {
      id: this.nextId('repo'), parentId: repo.id, owner, name: repo.name, fullName, private: repo.private, defaultBranch: repo.defaultBranch, hasIssues: false,
      branches: new Map(repo.branches), tags: new Map(), commits: repo.commits, activities: [], collaborators: new Map(), createdAt: timestamp(), pushedAt: timestamp(),
    };
    this.repos.set(fullName.toLowerCase(), fork);
    this.issues.set(fork.id, new Map());
    this.pulls.set(fork.id, new Map());
    return fork;
  }

  /** The pull requests, of any repository, whose head branch is in `fork`. */
  private pullsFromFork(fork: Repo): Array<[Repo, Pull]> {
    return [...this.repos.values()].flatMap((parent) => [...(this.pulls.get(parent.id)?.values() ?? [])].filter((p) => p.headRepoId === fork.id).map((p): [Repo, Pull] => [parent, p]));
  }

  /** Changes an open pull request's base branch: a `base_ref_changed` issue event and `pull_request.edited` with `changes.base`. */
  retargetPull(repo: Repo, pull: Pull, base: string, actor: User): void {
    if (pull.merged || this.issue(repo, pull.number)?.state !== 'open') throw new Error(`${repo.fullName}#${pull.number} is not open`);
    if (!repo.branches.has(base)) throw new Error(`${repo.fullName}: unknown base branch ${base}`);
    const from = { ref: { from: pull.baseRef }, sha: { from: pull.baseSha } };
    pull.baseRef = base;
    this.refreshPullCommits(repo, pull);
    this.issueEvents.push({ id: this.nextId('issueEvent'), repoId: repo.id, issueNumber: pull.number, actor, event: 'base_ref_changed', createdAt: timestamp() });
    this.emit({ name: 'pull_request', action: 'edited', repo, sender: actor, body: { number: pull.number, pull, changes: { base: from } } });
  }

  /** The repository a pull request's head branch is in. */
  headRepoOf(repo: Repo, pull: Pull): Repo {
    return pull.headRepoId === undefined ? repo : (this.repoById(pull.headRepoId) as Repo);
  }

  /** One `git push` of several commits (oldest first) onto `branch`: one activity from the old head to the last commit. */
  push(repo: Repo, branch: string, commits: Array<{ files: FileMap; message?: string }>, author: string): { before: string; commits: Commit[] } {
    if (!commits.length) throw new Error('a push needs at least one commit');
    const before = repo.branches.get(branch) ?? NO_COMMIT;
    const pushed = commits.map((c, i) => this.commit(repo, branch, c.files, c.message ?? `Update ${i + 1}`, author, undefined, false));
    this.recordActivity(repo, branch, before, pushed[pushed.length - 1].sha, author);
    return { before, commits: pushed };
  }

  /** One change of a branch in the repository's activity; a plain push (or a creation) unless `type` says otherwise. */
  recordActivity(repo: Repo, branch: string, before: string, after: string, actor: string, type?: Activity['type']): Activity {
    this.ensureUser(actor);
    const activity: Activity = {
      id: this.nextId('activity'), before, after, ref: `refs/heads/${branch}`,
      type: type ?? (before === NO_COMMIT ? 'branch_creation' : 'push'), actor, timestamp: timestamp(),
    };
    repo.activities.push(activity);
    return activity;
  }

  /**
   * GitHub's test-merge commit: the base tree with the head's changes applied (conflicts: head wins).
   * A merged pull request, or one whose branch is gone, keeps the commits it had.
   */
  refreshPullCommits(repo: Repo, pull: Pull): void {
    const headRepo = this.headRepoOf(repo, pull);
    if (pull.merged || !headRepo.branches.has(pull.headRef) || !repo.branches.has(pull.baseRef)) return;
    pull.headSha = headRepo.branches.get(pull.headRef) as string;
    pull.baseSha = repo.branches.get(pull.baseRef) as string;
    const head = repo.commits.get(pull.headSha) as Commit;
    const base = repo.commits.get(pull.baseSha) as Commit;
    const inBase = new Set(ancestry(repo.commits, pull.baseSha).map((c) => c.sha));
    const mergeBase = ancestry(repo.commits, pull.headSha).find((c) => inBase.has(c.sha));
    const tree = new Map(base.files);
    const baseOfHead = mergeBase?.files ?? new Map<string, string>();
    for (const path of new Set([...baseOfHead.keys(), ...head.files.keys()])) {
      const after = head.files.get(path);
      if (after === baseOfHead.get(path)) continue;
      if (after === undefined) tree.delete(path);
      else tree.set(path, after);
    }
    const message = `Merge ${pull.headSha} into ${pull.baseSha}`;
    const sha = commitSha({ parents: [pull.baseSha, pull.headSha], message, author: 'github', files: tree, salt: `${repo.fullName}:pull/${pull.number}` });
    repo.commits.set(sha, { sha, parents: [pull.baseSha, pull.headSha], message, author: 'github', date: timestamp(), files: tree });
    pull.mergeSha = sha;
  }

  /** Stores a commit with these parents and this whole tree, moving no branch (merge commits, rewritten history). */
  addCommit(repo: Repo, spec: { parents: string[]; files: Map<string, string>; message: string; author: string; salt: string }): Commit {
    const sha = commitSha({ parents: spec.parents, message: spec.message, author: spec.author, files: spec.files, salt: `${repo.fullName}:${spec.salt}` });
    const commit: Commit = { sha, parents: spec.parents, message: spec.message, author: spec.author, date: timestamp(), files: spec.files };
    repo.commits.set(sha, commit);
    return commit;
  }

  // ---- issues, comments, reactions -------------------------------------------------------------

  private nextIssueNumber(repo: Repo, wanted?: number): number {
    const used = this.issues.get(repo.id) as Map<number, Issue>;
    const number = wanted ?? (this.issueNumbers.get(repo.id) ?? 0) + 1;
    if (used.has(number)) throw new Error(`${repo.fullName}#${number} already exists`);
    this.issueNumbers.set(repo.id, Math.max(number, this.issueNumbers.get(repo.id) ?? 0));
    return number;
  }

  createIssue(repo: Repo, author: User, spec: { title: string; body: string | null; labels: string[]; assignees?: User[]; number?: number }): Issue {
    const now = timestamp();
    const issue: Issue = {
      id: this.nextId('issue'), repoId: repo.id, number: this.nextIssueNumber(repo, spec.number), title: spec.title,
      body: spec.body, author, state: 'open', stateReason: null, labels: spec.labels, assignees: spec.assignees ?? [],
      createdAt: now, updatedAt: now, closedAt: null,
    };
    this.issues.get(repo.id)?.set(issue.number, issue);
    return issue;
  }

  updateIssue(repo: Repo, issue: Issue, changes: { title?: string; body?: string | null; state?: 'open' | 'closed'; stateReason?: Issue['stateReason']; labels?: string[]; assignees?: User[] }): Issue {
    if (changes.title !== undefined) issue.title = changes.title;
    if (changes.body !== undefined) issue.body = changes.body;
    if (changes.labels !== undefined) issue.labels = changes.labels;
    if (changes.assignees !== undefined) issue.assignees = changes.assignees;
    if (changes.state && changes.state !== issue.state) {
      issue.state = changes.state;
      issue.closedAt = changes.state === 'closed' ? timestamp() : null;
      issue.stateReason = changes.state === 'closed' ? changes.stateReason ?? 'completed' : 'reopened';
    }
    issue.updatedAt = timestamp();
    return issue;
  }

  createComment(repo: Repo, issue: Issue, author: User, body: string, viaAppId: number | null): Comment {
    const now = timestamp();
    const comment: Comment = { id: this.nextId('comment'), repoId: repo.id, issueNumber: issue.number, author, body, createdAt: now, updatedAt: now, viaAppId };
    this.comments.set(comment.id, comment);
    issue.updatedAt = now;
    this.emit({ name: 'issue_comment', action: 'created', repo, sender: author, body: { issue, comment } });
    return comment;
  }

  editComment(repo: Repo, comment: Comment, editor: User, body: string): Comment {
    const from = comment.body;
    comment.body = body;
    comment.updatedAt = timestamp();
    const issue = this.issue(repo, comment.issueNumber) as Issue;
    this.emit({ name: 'issue_comment', action: 'edited', repo, sender: editor, body: { issue, comment, changes: { body: { from } } } });
    return comment;
  }

  /** Deleting a comment removes it and tells Apps (`issue_comment.deleted`, with the comment as it was). */
  deleteComment(repo: Repo, comment: Comment, deleter: User): void {
    this.comments.delete(comment.id);
    const issue = this.issue(repo, comment.issueNumber) as Issue;
    this.emit({ name: 'issue_comment', action: 'deleted', repo, sender: deleter, body: { issue, comment } });
  }

  /** A push moved `branch` from `before` to `after`: open pull requests with that head are synchronized. */
  pushedTo(repo: Repo, branch: string, before: string, after: string, pusher: User): void {
    for (const pull of this.pulls.get(repo.id)?.values() ?? []) {
      const issue = this.issue(repo, pull.number) as Issue;
      if (pull.headRef !== branch || pull.headRepoId !== undefined || issue.state !== 'open') continue;
      this.emit({ name: 'pull_request', action: 'synchronize', repo, sender: pusher, body: { number: pull.number, before, after, pull } });
    }
  }

  commentsOf(repo: Repo, issueNumber?: number): Comment[] {
    return [...this.comments.values()].filter((c) => c.repoId === repo.id && (issueNumber === undefined || c.issueNumber === issueNumber));
  }

  /** Returns the existing reaction when the user already reacted with that content (GitHub answers 200 then). */
  react(subject: Reaction['subject'], user: User, content: ReactionContent): { reaction: Reaction; created: boolean } {
    const same = (s: Reaction['subject']) => JSON.stringify(s) === JSON.stringify(subject);
    const existing = this.reactions.find((r) => same(r.subject) && r.user.id === user.id && r.content === content);
    if (existing) return { reaction: existing, created: false };
    const reaction: Reaction = { id: this.nextId('reaction'), subject, user, content, createdAt: timestamp() };
    this.reactions.push(reaction);
    return { reaction, created: true };
  }

  reactionsOn(subject: Reaction['subject']): Reaction[] {
    return this.reactions.filter((r) => JSON.stringify(r.subject) === JSON.stringify(subject));
  }

  // ---- pull requests -------------------------------------------------------------------------

  openPull(repo: Repo, author: User, spec: { title: string; head: string; headRepo?: Repo; base?: string; body?: string; draft?: boolean; number?: number; files?: FileMap; labels?: string[] }, options: { notify: boolean }): Pull {
    const base = spec.base ?? repo.defaultBranch;
    const headRepo = spec.headRepo ?? repo;
    if (headRepo !== repo && headRepo.commits !== repo.commits) throw new Error(`${headRepo.fullName} is not a fork of ${repo.fullName}`);
    if (spec.files) this.commit(headRepo, spec.head, spec.files, spec.title, author.login);
    if (!headRepo.branches.has(spec.head)) throw new Error(`${headRepo.fullName}: unknown head branch ${spec.head}`);
    if (!repo.branches.has(base)) throw new Error(`${repo.fullName}: unknown base branch ${base}`);
    const issue = this.createIssue(repo, author, { title: spec.title, body: spec.body ?? null, labels: spec.labels ?? [], number: spec.number });
    const pull: Pull = {
      id: this.nextId('pull'), repoId: repo.id, number: issue.number, headRef: spec.head, ...(headRepo !== repo ? { headRepoId: headRepo.id } : {}), baseRef: base,
      headSha: '', baseSha: '', mergeSha: '', draft: spec.draft ?? false, merged: false, mergedAt: null, mergedBy: null,
    };
    issue.pullNumber = pull.number;
    this.pulls.get(repo.id)?.set(pull.number, pull);
    this.refreshPullCommits(repo, pull);
    if (options.notify) this.emit({ name: 'pull_request', action: 'opened', repo, sender: author, body: { number: pull.number, pull } });
    return pull;
  }

  /**
   * GitHub's "PRs associated with a commit": the PRs that introduce it (in the head's history, not the base's);
   * once the commit is on the default branch, only merged ones.
   */
  pullsForCommit(repo: Repo, sha: string): Pull[] {
    const contains = (head: string) => ancestry(repo.commits, head).some((c) => c.sha === sha);
    const onDefault = contains(repo.branches.get(repo.defaultBranch) as string);
    return [...(this.pulls.get(repo.id)?.values() ?? [])]
      // A merge commit belongs to the pull request it merged, as the commits it brought in do.
      .filter((p) => (p.merged && p.mergeSha === sha) || (contains(p.headSha) && !contains(p.baseSha) && (!onDefault || p.merged)));
  }

  // ---- check runs ----------------------------------------------------------------------------

  createCheckRun(repo: Repo, appId: number, spec: Omit<CheckRun, 'id' | 'repoId' | 'appId' | 'checkSuiteId' | 'updatedAt'>): CheckRun {
    const suiteKey = `${repo.id}:${appId}:${spec.headSha}`;
    const checkSuiteId = this.checkSuites.get(suiteKey) ?? this.nextId('checkSuite');
    this.checkSuites.set(suiteKey, checkSuiteId);
    const run: CheckRun = { ...spec, id: this.nextId('checkRun'), repoId: repo.id, appId, checkSuiteId, updatedAt: timestamp() };
    this.checkRuns.set(run.id, run);
    return run;
  }

  checkRunsFor(repo: Repo, sha: string): CheckRun[] {
    return [...this.checkRuns.values()].filter((r) => r.repoId === repo.id && r.headSha === sha).sort((a, b) => b.id - a.id);
  }

  requestCheckRunAction(repo: Repo, run: CheckRun, user: User, identifier: string): void {
    const action: CheckRunAction | undefined = run.actions.find((a) => a.identifier === identifier);
    if (!action) throw new Error(`check run ${run.id} has no action "${identifier}"`);
    this.emit({ name: 'check_run', action: 'requested_action', repo, sender: user, appId: run.appId, body: { check_run: run, requested_action: { identifier } } });
  }

  // ---- installations, workflow runs, deployment protection rules --------------------------------

  install(appId: number, account: string, repositories: string[] | undefined, sender: User): Installation {
    const installation = this.addInstallation({ appId, account, repositories });
    this.emit({ name: 'installation', action: 'created', repo: null, account: installation.account, sender, appId, body: { installation } });
    return installation;
  }

  /**
   * The installation's owner suspends it (`installation.suspend`): until unsuspended GitHub issues it
   * no token, refuses the tokens it has and sends it no other webhook.
   */
  suspendInstallation(installation: Installation, by: User): void {
    installation.suspended = { at: timestamp(), by };
    this.emit({ name: 'installation', action: 'suspend', repo: null, account: installation.account, sender: by, appId: installation.appId, body: { installation } });
  }

  unsuspendInstallation(installation: Installation, by: User): void {
    delete installation.suspended;
    this.emit({ name: 'installation', action: 'unsuspend', repo: null, account: installation.account, sender: by, appId: installation.appId, body: { installation } });
  }

  /** The App is uninstalled (`installation.deleted`, the last event it hears of the account): its tokens stop working at once. */
  uninstall(installation: Installation, by: User): void {
    this.emit({ name: 'installation', action: 'deleted', repo: null, account: installation.account, sender: by, appId: installation.appId, body: { installation } });
    this.installations.delete(installation.id);
    for (const [token, grant] of this.tokens) if (grant.installationId === installation.id) this.tokens.delete(token);
  }

  /**
   * Repositories taken out of an installation's selection (`installation_repositories.removed`): its
   * tokens, earlier ones too, no longer reach them.
   */
  removeInstallationRepositories(installation: Installation, names: string[], by: User): void {
    const removed = names.map((name) => {
      const repo = this.repo(installation.account.login, name);
      if (!repo || !(installation.repositories === 'all' || installation.repositories.has(repo.id))) throw new Error(`${installation.account.login}/${name} is not in installation ${installation.id}`);
      return repo;
    });
    const gone = new Set(removed.map((r) => r.id));
    installation.repositories = new Set(this.installationRepos(installation).map((r) => r.id).filter((id) => !gone.has(id)));
    this.emit({
      name: 'installation_repositories', action: 'removed', repo: null, account: installation.account, sender: by, appId: installation.appId,
      body: { installation, repository_selection: 'selected', repositories_added: [], repositories_removed: removed.map((r) => ({ id: r.id, node_id: nodeId('Repository', r.id), name: r.name, full_name: r.fullName, private: r.private })) },
    });
  }

  /** Lets another part of the double announce an event that has no state of its own here (workflow runs). */
  announce(event: DomainEvent): void {
    this.emit(event);
  }
}
