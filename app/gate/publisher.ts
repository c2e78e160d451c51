/**
 * Shows a request on GitHub: the check run, and the PR comment or approval issue. Each publish
 * re-reads the request so the last writer always shows the latest state; publishes of one request
 * are serialised so an older render never lands after a newer one.
 */
import type { GitHubClient, RepoCoordinates } from '../github/github.js';
import { mentionLine } from '../notify/index.js';
import { checkRunContent } from '../render/check-run.js';
import { issueTitle, threadBody } from '../render/thread.js';
import type { Store } from '../store/store.js';
import type { GateRequest } from './request.js';
import { approversOf } from './notifications.js';
import { toGateRequest } from './request.js';

export interface PublisherOptions {
  store: Store;
  /** The App's public base URL without a trailing slash, for the check run's details link. */
  appUrl: string;
  github: (installationId: number) => Promise<GitHubClient>;
}

export class Publisher {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly options: PublisherOptions) {}

  detailsUrl(requestId: string): string {
    return `${this.options.appUrl}/requests/${requestId}`;
  }

  /** Brings GitHub in line with the stored request, creating the check run and thread when missing. */
  publish(requestId: string): Promise<GateRequest | undefined> {
    const previous = this.queues.get(requestId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.publishNow(requestId));
    this.queues.set(requestId, next);
    void next.finally(() => {
      if (this.queues.get(requestId) === next) this.queues.delete(requestId);
    }).catch(() => undefined);
    return next;
  }

  private async publishNow(requestId: string): Promise<GateRequest | undefined> {
    const { store } = this.options;
    const row = await store.getRequest(requestId);
    if (!row) return undefined;
    let request = toGateRequest(row, await store.listVotes(requestId));
    const github = await this.options.github(request.installationId);
    const repo: RepoCoordinates = { owner: request.owner, repo: request.repo };

    const content = checkRunContent(request, this.detailsUrl(request.id));
    if (request.checkRun) {
      await github.updateCheckRun(repo, request.checkRun.id, content);
    } else {
      const checkRun = await github.createCheckRun(repo, content);
      await store.updateRequest(request.id, { checkRunId: checkRun.id, checkRunUrl: checkRun.htmlUrl });
      request = { ...request, checkRun: { id: checkRun.id, url: checkRun.htmlUrl } };
    }

    // Only requests that needed people get a conversation; auto-approvals and policy errors live on the check run.
    if (!request.decision || request.decision.outcome !== 'approval_required') return request;
    const body = threadBody(request, { checkRunUrl: request.checkRun?.url, approvers: mentionLine(approversOf(request)).line });
    if (request.pullNumber !== undefined) {
      if (request.comment) await github.updateComment(repo, request.comment.id, body);
      else {
        const comment = await github.createComment(repo, request.pullNumber, body);
        await store.updateRequest(request.id, { commentId: comment.id, commentUrl: comment.htmlUrl });
        request = { ...request, comment: { id: comment.id, url: comment.htmlUrl } };
      }
    } else if (!request.issue) {
      if (request.status === 'pending') {
        const issue = await github.createIssue(repo, issueTitle(request), body);
        await store.updateRequest(request.id, { issueNumber: issue.number, issueUrl: issue.htmlUrl });
        request = { ...request, issue: { number: issue.number, url: issue.htmlUrl } };
      }
    } else if (request.status === 'pending') {
      await github.updateIssue(repo, request.issue.number, body);
    } else {
      await github.updateIssue(repo, request.issue.number, body);
      await github.closeIssue(repo, request.issue.number, request.status === 'approved' ? 'completed' : 'not_planned');
    }
    return request;
  }
}
