/** Seed (input) and in-memory state types of the GitHub double. */

export type Permission = 'read' | 'triage' | 'write' | 'maintain' | 'admin';
export const PERMISSION_ORDER: readonly Permission[] = ['read', 'triage', 'write', 'maintain', 'admin'];

export interface SeedUser {
  login: string;
  id?: number;
  type?: 'User' | 'Bot' | 'Organization';
  name?: string;
  email?: string;
}

export interface SeedTeam {
  org: string;
  slug: string;
  name?: string;
  members?: string[];
  maintainers?: string[];
  /** Invited to the organization and added to the team, invitation not yet accepted: membership `pending`. */
  pending?: string[];
  /** Slug of the parent team in the same organization: this team's members are members of the parent too. */
  parent?: string;
  /** Repository name (in `org`) → permission the team grants on it. */
  repos?: Record<string, Permission>;
}

/** Files of one branch: path → content. On a non-default branch these overlay the default branch's files (null deletes). */
export type FileMap = Record<string, string | null>;

export interface SeedPull {
  number?: number;
  title: string;
  head: string;
  base?: string;
  user: string;
  body?: string;
  state?: 'open' | 'closed';
  draft?: boolean;
  /** Label names; a pull request's labels are its issue's. */
  labels?: string[];
}

export interface SeedIssue {
  number?: number;
  title: string;
  body?: string;
  user: string;
  state?: 'open' | 'closed';
  labels?: string[];
}

export interface SeedRepo {
  owner: string;
  name: string;
  id?: number;
  private?: boolean;
  defaultBranch?: string;
  /** Whether the repository has issues (default true); without them GitHub answers 410 to issue writes. */
  hasIssues?: boolean;
  /** Branch name → files. The default branch is created even when absent here. */
  branches?: Record<string, FileMap>;
  /** Direct collaborators: login → permission. The owner (a user) is always admin. */
  collaborators?: Record<string, Permission>;
  pulls?: SeedPull[];
  issues?: SeedIssue[];
}

export interface SeedApp {
  id: number;
  slug?: string;
  name?: string;
  owner?: string;
  /** PEM (SPKI or PKCS#1) public key the App's JWTs are verified with. */
  publicKey: string;
  webhook?: { url: string; secret: string };
  /** Events the App subscribes to; absent = all. */
  events?: string[];
  permissions?: Record<string, 'read' | 'write'>;
  /** Where the OAuth web flow may send a user back (the App's "Callback URL" settings). */
  callbackUrls?: string[];
}

export interface SeedInstallation {
  id?: number;
  appId?: number;
  account: string;
  /** Repository names in `account`; absent = all repositories. */
  repositories?: string[];
  permissions?: Record<string, 'read' | 'write'>;
}

export interface Seed {
  users?: SeedUser[];
  teams?: SeedTeam[];
  repos?: SeedRepo[];
  apps?: SeedApp[];
  installations?: SeedInstallation[];
}

export interface User {
  id: number;
  login: string;
  type: 'User' | 'Bot' | 'Organization';
  name: string | null;
  email: string | null;
  createdAt: string;
}

export interface Commit {
  sha: string;
  parents: string[];
  message: string;
  author: string;
  date: string;
  /** Full tree: path → content. */
  files: Map<string, string>;
}

/** GitHub's repository activity kinds (`GET /repos/{owner}/{repo}/activity`). */
export type ActivityType = 'push' | 'force_push' | 'branch_creation' | 'branch_deletion' | 'pr_merge' | 'merge_queue_merge';

/** One change of a ref, as "List repository activities" reports it. */
export interface Activity {
  id: number;
  /** `0000…` (40 zeros) when the push created the branch. */
  before: string;
  after: string;
  /** Full ref, `refs/heads/<branch>`. */
  ref: string;
  type: ActivityType;
  /** Login of the pusher. */
  actor: string;
  timestamp: string;
}

export interface Repo {
  id: number;
  owner: User;
  name: string;
  fullName: string;
  private: boolean;
  defaultBranch: string;
  hasIssues: boolean;
  branches: Map<string, string>;
  /** The repository this one is a fork of. */
  parentId?: number;
  /** Lightweight tags: name → commit sha. */
  tags: Map<string, string>;
  commits: Map<string, Commit>;
  /** Every push that moved a branch, oldest first. */
  activities: Activity[];
  collaborators: Map<string, Permission>;
  createdAt: string;
  pushedAt: string;
}

export interface Team {
  id: number;
  org: string;
  slug: string;
  name: string;
  /** Active direct members: login (lower case) → role. */
  members: Map<string, 'member' | 'maintainer'>;
  /** Members whose organization invitation is pending: login (lower case) → role. */
  pending: Map<string, 'member' | 'maintainer'>;
  /** Slug of the parent team, or null. */
  parent: string | null;
  repos: Map<string, Permission>;
}

export interface Issue {
  id: number;
  repoId: number;
  number: number;
  title: string;
  body: string | null;
  author: User;
  state: 'open' | 'closed';
  stateReason: 'completed' | 'not_planned' | 'reopened' | null;
  labels: string[];
  assignees: User[];
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  /** Set when the issue is a pull request's conversation. */
  pullNumber?: number;
}

export interface Pull {
  id: number;
  repoId: number;
  number: number;
  headRef: string;
  /** The fork whose branch `headRef` is; absent when it is the pull request's own repository's. */
  headRepoId?: number;
  baseRef: string;
  headSha: string;
  baseSha: string;
  mergeSha: string;
  draft: boolean;
  merged: boolean;
  mergedAt: string | null;
  mergedBy: User | null;
}

export interface Comment {
  id: number;
  repoId: number;
  issueNumber: number;
  author: User;
  body: string;
  createdAt: string;
  updatedAt: string;
  viaAppId: number | null;
}

export type ReactionContent = '+1' | '-1' | 'laugh' | 'confused' | 'heart' | 'hooray' | 'rocket' | 'eyes';
export const REACTION_CONTENTS: readonly ReactionContent[] = ['+1', '-1', 'laugh', 'confused', 'heart', 'hooray', 'rocket', 'eyes'];

export interface Reaction {
  id: number;
  subject: { kind: 'issue'; repoId: number; number: number } | { kind: 'comment'; commentId: number };
  user: User;
  content: ReactionContent;
  createdAt: string;
}

export interface CheckRunAction {
  label: string;
  description: string;
  identifier: string;
}

export interface CheckRun {
  id: number;
  repoId: number;
  appId: number;
  checkSuiteId: number;
  name: string;
  headSha: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: string | null;
  detailsUrl: string | null;
  externalId: string | null;
  startedAt: string | null;
  completedAt: string | null;
  output: { title: string | null; summary: string | null; text: string | null; annotationsCount: number };
  actions: CheckRunAction[];
  updatedAt: string;
}

export interface App {
  id: number;
  slug: string;
  name: string;
  owner: User;
  bot: User;
  publicKey: string;
  webhook: { url: string; secret: string } | null;
  events: string[] | null;
  permissions: Record<string, 'read' | 'write'>;
  createdAt: string;
  /** The App's OAuth credentials, for the web flow that signs users in. */
  clientId: string;
  clientSecret: string;
  /** Where the web flow may send a user back; a `redirect_uri` must be one of these or below one. */
  callbackUrls: string[];
}

export interface Installation {
  id: number;
  appId: number;
  account: User;
  /** Repository ids, or 'all'. */
  repositories: Set<number> | 'all';
  permissions: Record<string, 'read' | 'write'>;
  createdAt: string;
  /** Set while the installation is suspended: GitHub then issues it no tokens, refuses its tokens and sends it no webhooks. */
  suspended?: { at: string; by: User };
}

export interface TokenGrant {
  token: string;
  /** `user`: a GitHub App's user access token (`ghu_`), acting for `login` where both the user and the App have access. */
  kind: 'installation' | 'actions' | 'user';
  installationId: number | null;
  /** The user a `user` token acts for. */
  login?: string;
  appId: number | null;
  repositoryIds: Set<number> | 'all';
  permissions: Record<string, 'read' | 'write'>;
  expiresAt: number;
}

export interface DeploymentReview {
  repoId: number;
  runId: number;
  appId: number;
  environmentName: string;
  /** Null for a status report (a comment shown on the run, deciding nothing). */
  state: 'approved' | 'rejected' | null;
  comment: string;
  at: string;
}
