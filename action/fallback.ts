/**
 * When the App stays unreachable, the approval check run it owns still tells the outcome. The Action
 * reads it with GITHUB_TOKEN, revalidating with If-None-Match: a 304 costs no rate limit. Only the
 * check run the App itself named is read, and only if the App's own GitHub App made it: any other
 * App installed on the repository can make a check run of the same name on the same commit.
 */
import * as github from '@actions/github';
import type { RequestStatus } from './client.js';
import type { StepIdentity } from './step-identity.js';

type Octokit = ReturnType<typeof github.getOctokit>;

/** What the check run says about the request. */
export interface CheckRunReading {
  status: RequestStatus;
  checkRunId: number;
  checkRunUrl: string;
  reason: string;
  approvedBy: string[];
}

/** What the App said about its request before it became unreachable. */
export interface AppsCheckRun {
  checkRunId: number;
  requestId: string;
  /** The id of the GitHub App the App runs as. */
  appId: number;
}

/** The App's decision record, embedded in the check run's text as a ```json block. */
interface DecisionRecord {
  request?: string;
  run?: { id?: string; attempt?: string };
  action?: string;
  status?: string;
  reason?: string;
  votes?: { login?: string; choice?: string; eligibleFor?: unknown }[];
  /** The approvers whose approvals count; absent from records an older App wrote. */
  approved_by?: unknown;
}

interface ApiCheckRun {
  id: number;
  html_url: string | null;
  status: string;
  conclusion: string | null;
  external_id: string | null;
  app: { id?: number; slug?: string } | null;
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
 * Only the App's own check run for this request, run attempt and action. Made by any other App (or
 * by GitHub Actions, with a token the workflow holds) it must never count as approval.
 */
export function belongsTo(run: ApiCheckRun, step: StepIdentity, known: AppsCheckRun): boolean {
  if (run.id !== known.checkRunId || run.app?.id !== known.appId || run.external_id !== known.requestId) return false;
  const record = decisionRecord(run);
  return record?.request === known.requestId && record.action === step.action && record.run?.id === step.runId && record.run.attempt === step.runAttempt;
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
      return { ...base, status: 'approved', reason, approvedBy: approversIn(record) };
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

/**
 * The approvers the record names; an older App's record lists only votes, of which those eligible for
 * some requirement counted. A vote that does not say it was eligible is not taken as an approver.
 */
function approversIn(record: DecisionRecord | undefined): string[] {
  if (Array.isArray(record?.approved_by)) return record.approved_by.filter((login): login is string => typeof login === 'string');
  const counted = (record?.votes ?? []).filter((v) => v.choice === 'approve' && v.login && Array.isArray(v.eligibleFor) && v.eligibleFor.length > 0);
  return [...new Set(counted.map((v) => v.login as string))];
}

export class CheckRunFallback {
  private readonly cache = new Map<string, { etag: string; data: unknown }>();

  constructor(private readonly octokit: Octokit, private readonly step: StepIdentity) {}

  /** The reading of the check run the App named; an error if that check run is not the App's own for this step. */
  async read(known: AppsCheckRun): Promise<CheckRunReading> {
    const [owner, repo] = this.step.repository.split('/');
    const run = await this.conditionalGet<ApiCheckRun>('GET /repos/{owner}/{repo}/check-runs/{check_run_id}', {
      owner, repo, check_run_id: known.checkRunId,
    });
    if (!belongsTo(run, this.step, known)) {
      const maker = run.app ? `${run.app.slug ?? 'an App'} (id ${run.app.id})` : 'no App';
      throw new Error(`check run ${run.id} (made by ${maker}) is not the App's record of request ${known.requestId} for this step (the App's id is ${known.appId}); it is not trusted`);
    }
    return readCheckRun(run);
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

/** Builds the fallback for this step; GITHUB_API_URL points Octokit at GHES or a double. */
export function checkRunFallbackFromEnvironment(token: string, step: StepIdentity): CheckRunFallback {
  return new CheckRunFallback(github.getOctokit(token, { baseUrl: github.context.apiUrl }), step);
}
