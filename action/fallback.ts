/**
 * When the App stays unreachable, the approval check run it owns still tells the outcome. The Action
 * reads it with GITHUB_TOKEN, revalidating with If-None-Match: a 304 costs no rate limit.
 */
import * as github from '@actions/github';
import type { RequestStatus } from './client.js';

type Octokit = ReturnType<typeof github.getOctokit>;

/** What the check run says about the request. */
export interface CheckRunReading {
  status: RequestStatus;
  checkRunId: number;
  checkRunUrl: string;
  reason: string;
  approvedBy: string[];
}

export interface CheckRunTarget {
  owner: string;
  repo: string;
  /** The commit the App puts the check run on: a PR's head, else the run's sha. */
  headSha: string;
  action: string;
  runId: string;
  runAttempt: string;
}

/** Must match the App's name for the check run (app/render/check-run.ts). */
export function approvalCheckRunName(action: string): string {
  return `jit: ${action}`;
}

/** The App's decision record, embedded in the check run's text as a ```json block. */
interface DecisionRecord {
  request?: string;
  run?: { id?: string; attempt?: string };
  action?: string;
  status?: string;
  reason?: string;
  votes?: { login?: string; choice?: string }[];
}

interface ApiCheckRun {
  id: number;
  html_url: string | null;
  status: string;
  conclusion: string | null;
  external_id: string | null;
  app: { slug?: string } | null;
  output: { title: string | null; text?: string | null };
}

function decisionRecord(run: ApiCheckRun): DecisionRecord | undefined {
  const block = /```json\n([\s\S]*?)\n```/.exec(run.output.text ?? '');
  if (!block) return undefined;
  try {
    return JSON.parse(block[1]) as DecisionRecord;
  } catch {
    return undefined;
  }
}

/**
 * Only a check run of this very run attempt and action, not made by GitHub Actions itself: a check
 * run made with GITHUB_TOKEN could be written by the workflow, so it must never count as approval.
 */
export function belongsTo(run: ApiCheckRun, target: CheckRunTarget, requestId?: string): boolean {
  if (!run.app || run.app.slug === 'github-actions') return false;
  if (requestId && run.external_id !== requestId) return false;
  const record = decisionRecord(run);
  return record?.action === target.action && record.run?.id === target.runId && record.run.attempt === target.runAttempt;
}

/** Reads conclusions conservatively: anything not clearly decided is still pending. */
export function readCheckRun(run: ApiCheckRun): CheckRunReading {
  const record = decisionRecord(run);
  const base = { checkRunId: run.id, checkRunUrl: run.html_url ?? '', approvedBy: [] as string[] };
  const reason = record?.reason || run.output.title || '';
  if (run.status !== 'completed') return { ...base, status: 'pending', reason };
  switch (run.conclusion) {
    case 'success': {
      // The conclusion decides; the record only adds who approved.
      const approvedBy = (record?.votes ?? []).filter((v) => v.choice === 'approve' && v.login).map((v) => v.login as string);
      return { ...base, status: 'approved', reason, approvedBy };
    }
    case 'failure':
      return { ...base, status: record?.status === 'failed' ? 'failed' : 'rejected', reason };
    case 'timed_out':
      return { ...base, status: 'timed_out', reason };
    case 'cancelled':
      return { ...base, status: 'cancelled', reason };
    default:
      return { ...base, status: 'pending', reason };
  }
}

export class CheckRunFallback {
  private readonly cache = new Map<string, { etag: string; data: unknown }>();

  constructor(private readonly octokit: Octokit, private readonly target: CheckRunTarget) {}

  /** The check run's reading, or undefined when the App has not made one for this run yet. */
  async read(known?: { checkRunId?: number; requestId?: string }): Promise<CheckRunReading | undefined> {
    const { owner, repo } = this.target;
    let candidates: ApiCheckRun[];
    if (known?.checkRunId) {
      candidates = [await this.conditionalGet<ApiCheckRun>('GET /repos/{owner}/{repo}/check-runs/{check_run_id}', {
        owner, repo, check_run_id: known.checkRunId,
      })];
    } else {
      const page = await this.conditionalGet<{ check_runs: ApiCheckRun[] }>('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', {
        owner, repo, ref: this.target.headSha, check_name: approvalCheckRunName(this.target.action), filter: 'all', per_page: 100,
      });
      candidates = page.check_runs;
    }
    const mine = candidates.filter((run) => belongsTo(run, this.target, known?.requestId)).sort((a, b) => b.id - a.id);
    return mine.length > 0 ? readCheckRun(mine[0]) : undefined;
  }

  private async conditionalGet<T>(route: string, parameters: Record<string, string | number>): Promise<T> {
    const key = `${route} ${JSON.stringify(parameters)}`;
    const cached = this.cache.get(key);
    try {
      const response = await this.octokit.request(route, {
        ...parameters,
        headers: cached ? { 'if-none-match': cached.etag } : {},
      });
      const etag = response.headers.etag;
      if (etag) this.cache.set(key, { etag, data: response.data });
      return response.data as T;
    } catch (err) {
      if (cached && (err as { status?: number }).status === 304) return cached.data as T;
      throw err;
    }
  }
}

/** Builds the fallback from the runner's environment; GITHUB_API_URL points Octokit at GHES or a double. */
export function checkRunFallbackFromEnvironment(token: string, action: string): CheckRunFallback {
  const { context } = github;
  const pullRequest = context.payload.pull_request as { head?: { sha?: string } } | undefined;
  const octokit = github.getOctokit(token, { baseUrl: context.apiUrl });
  return new CheckRunFallback(octokit, {
    ...context.repo,
    headSha: pullRequest?.head?.sha ?? context.sha,
    action,
    runId: String(context.runId),
    runAttempt: String(context.runAttempt),
  });
}
