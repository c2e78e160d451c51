/**
 * Replies to commands (a refused vote, a command that needs fixing), sent from the outbox: queued
 * with the vote's effect, sent once even when GitHub's answer to the first attempt is lost.
 */
import type { GitHubClient, WriteTarget } from '../github/github.js';
import { REPLY_JOB, type NewTimer } from '../store/store.js';

export interface ReplyJob {
  installationId: number;
  owner: string;
  repo: string;
  issueNumber: number;
  body: string;
  /** What the reply answers (a comment id, a button click's delivery): one reply each, ever. */
  answers: string;
}

/** Hidden in the reply, so a retry can tell whether an earlier attempt already posted it. */
export function replyMarker(answers: string): string {
  return `<!-- mercurial-jit reply to ${answers} -->`;
}

/** The outbox job that sends a reply: keyed on what it answers, so queuing it twice sends it once. */
export function replyTimer(reply: ReplyJob, requestId?: string): NewTimer {
  return { kind: REPLY_JOB, key: `${REPLY_JOB}:${reply.owner}/${reply.repo}:${reply.answers}`, requestId, dueAt: new Date(), payload: reply };
}

/** `to`: where the reply goes, with its check before sending (default: the repository it was queued for). */
export async function sendReply(github: GitHubClient, reply: ReplyJob, { retry, queuedAt, to }: { retry: boolean; queuedAt: Date; to?: WriteTarget }): Promise<void> {
  const repo = { owner: reply.owner, repo: reply.repo };
  const marker = replyMarker(reply.answers);
  if (retry && (await github.findComment(repo, reply.issueNumber, marker, new Date(queuedAt.getTime() - 60_000)))) return;
  await github.createComment(to ?? repo, reply.issueNumber, `${reply.body}\n\n${marker}`);
}
