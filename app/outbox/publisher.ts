/**
 * Shows a request on GitHub: the check run, and the PR comment or approval issue. It brings GitHub in
 * line with the stored request whatever it showed before, so running it again is always safe; the
 * outbox runs it once per change (and again after a failure).
 *
 * A write that GitHub performed but whose answer was lost (a 502 after the fact, a crash) must not
 * be repeated: on a retry, what a previous attempt may have created is looked for first (the check
 * run by its external id, the comment and the issue by their hidden marker).
 *
 * A repository whose issues are off (as a fork's start) refuses an approval issue, and one whose
 * issues were turned off, or whose approval issue was deleted, refuses its edits: the request is then
 * shown on its check run alone, whose buttons, like the dashboard and the notifiers, still carry it.
 * A PR comment of the App's that someone deleted is posted again, as a new comment.
 *
 * Writes name the repository, and wait their turn among the installation's writes (seconds, under a
 * backlog minutes): each checks, just before it leaves, that the request has not moved to another name
 * meanwhile, so that a rename never sends it to whatever repository has taken the old name.
 */
import type { Logger } from 'probot';
import { approversOf } from '../gate/notifications.js';
import { requestRepository, toGateRequest, type GateRequest } from '../gate/request.js';
import type { GitHubClient, RepoCoordinates } from '../github/github.js';
import { isNotFound } from '../github/octokit-client.js';
import { isGone } from '../github/transient.js';
import { checkRunContent } from '../render/check-run.js';
import { approversLine, issueTitle, requestMarker, threadBody } from '../render/thread.js';
import type { Store } from '../store/store.js';

export interface PublisherOptions {
  store: Store;
  /** The App's public base URL, for the check run's details link. */
  appUrl: string;
  github: (installationId: number) => Promise<GitHubClient>;
  log?: Logger;
}

/** GitHub's timestamps have whole seconds: look from the second before, so nothing made in the same second is missed. */
const sinceOf = (createdAt: string) => new Date(Math.floor(Date.parse(createdAt) / 1000) * 1000 - 1000);

export class Publisher {
  constructor(private readonly options: PublisherOptions) {}

  detailsUrl(requestId: string): string {
    return `${this.options.appUrl.replace(/\/$/, '')}/dashboard/requests/${requestId}`;
  }

  /**
   * Brings GitHub in line with the stored request, creating the check run and thread when missing,
   * unless an earlier attempt may have created them without the store learning of it: then they are
   * looked for first.
   */
  async publish(requestId: string): Promise<GateRequest | undefined> {
    const { store } = this.options;
    const row = await store.getRequest(requestId);
    if (!row) return undefined;
    const retry = !(await store.markPublishStarted(requestId));
    let request = toGateRequest(row, await store.listVotes(requestId));
    const github = await this.options.github(request.installationId);
    const repo: RepoCoordinates = { owner: request.owner, repo: request.repo };
    const to = requestRepository(store, request.id, repo);

    const content = checkRunContent(request, this.detailsUrl(request.id));
    let checkRun = request.checkRun;
    if (checkRun) {
      await github.updateCheckRun(to, checkRun.id, content);
    } else {
      const found = retry ? await github.findCheckRun(repo, request.headSha, content.name, request.id) : undefined;
      if (found) await github.updateCheckRun(to, found.id, content);
      const made = found ?? (await github.createCheckRun(to, content));
      const mine = { id: made.id, url: made.htmlUrl };
      // A publication of the request running at the same time (on another replica) may have stored a
      // check run of its own meanwhile: this one is then kept among its others, and the publication
      // runs again so that every one shows the latest state. The thread is that publication's to show
      // (what this one read is older), so it is left alone here.
      checkRun = (await store.recordCheckRun(request.id, mine)) ?? mine;
      if (checkRun.id !== mine.id) {
        await store.enqueuePublish(request.id);
        return { ...request, checkRun };
      }
    }
    // No check run the App made for the request may keep asking for approval: each shows the same.
    for (const other of row.otherCheckRunIds) {
      if (other !== checkRun.id) await github.updateCheckRun(to, other, content);
    }
    request = { ...request, checkRun };

    // Only requests that need people (or will, once a window opens) get a conversation; auto-approvals and policy errors live on the check run.
    const hasThread = request.comment !== undefined || request.issue !== undefined;
    if (!request.decision || !(hasThread || ['approval_required', 'held'].includes(request.decision.outcome))) return request;
    const body = threadBody(request, { checkRunUrl: request.checkRun?.url, approvers: approversLine(request, approversOf(request)) });
    const marker = requestMarker(request.id);
    if (request.pullNumber !== undefined) {
      const known = request.comment && { id: request.comment.id, htmlUrl: request.comment.url };
      const found = known ?? (retry ? await github.findComment(repo, request.pullNumber, marker, sinceOf(request.createdAt)) : undefined);
      // Someone deleted the App's comment (anyone who may delete comments on the pull request can): the
      // request is shown in a new one, rather than left unpublishable, which would fail it.
      const comment = found && (await github.updateComment(to, found.id, body).then(() => found, (err: unknown) => {
        if (!isNotFound(err)) throw err;
        this.options.log?.warn({ requestId: request.id, comment: found.htmlUrl }, "the request's comment on its pull request is gone (deleted): showing it in a new one");
        return undefined;
      }));
      if (comment) {
        if (!known) await store.updateRequest(request.id, { commentId: comment.id, commentUrl: comment.htmlUrl });
      } else {
        const created = await github.createComment(to, request.pullNumber, body);
        await store.updateRequest(request.id, { commentId: created.id, commentUrl: created.htmlUrl });
        request = { ...request, comment: { id: created.id, url: created.htmlUrl } };
      }
      return request;
    }
    let issue = request.issue;
    if (!issue && retry) {
      const found = await github.findIssue(repo, marker, sinceOf(request.createdAt));
      if (found) {
        await store.updateRequest(request.id, { issueNumber: found.number, issueUrl: found.htmlUrl });
        issue = { number: found.number, url: found.htmlUrl };
      }
    }
    if (!issue) {
      // A request decided before its issue was ever opened needs none: its check run says it all.
      if (request.status !== 'pending') return request;
      const created = await github.createIssue(to, issueTitle(request), body).catch((err: unknown) => {
        if (!isGone(err)) throw err;
        this.options.log?.warn({ requestId: request.id, repository: `${request.owner}/${request.repo}` }, 'issues are off in this repository: the request is shown on its check run alone');
        return undefined;
      });
      if (!created) return request;
      await store.updateRequest(request.id, { issueNumber: created.number, issueUrl: created.htmlUrl });
      return { ...request, issue: { number: created.number, url: created.htmlUrl } };
    }
    const close = request.status === 'pending' ? undefined : request.status === 'approved' ? 'completed' : 'not_planned';
    try {
      await github.updateIssue(to, issue.number, body, close);
    } catch (err) {
      if (!isGone(err)) throw err;
      this.options.log?.warn({ requestId: request.id, issue: issue.url }, 'the approval issue is gone (deleted, or issues turned off): the request is shown on its check run alone');
    }
    return { ...request, issue };
  }
}
