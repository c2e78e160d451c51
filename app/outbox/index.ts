/**
 * The outbox's door: the worker, and the handlers for publishing requests and sending replies.
 * Other subsystems (the policy preview) register handlers of their own in `app/index.ts`.
 */
import type { Logger } from 'probot';
import type { Gate } from '../gate/gate.js';
import { requestRepository } from '../gate/request.js';
import type { GitHubClient } from '../github/github.js';
import { PUBLISH_JOB, REPLY_JOB, type ClaimedTimer, type Store } from '../store/store.js';
import { Publisher } from './publisher.js';
import { sendReply, type ReplyJob } from './replies.js';
import type { OutboxHandler } from './worker.js';

export { replyTimer, type ReplyJob } from './replies.js';
export { OutboxWorker, type OutboxHandler } from './worker.js';
export { Publisher } from './publisher.js';

export interface RequestOutbox {
  publisher: Publisher;
  handlers: Record<string, OutboxHandler>;
  onGiveUp: (job: ClaimedTimer, err: Error) => Promise<void>;
}

/** Publishing a request (then telling its notifiers, the first time), and replies. */
export function requestOutbox(options: { store: Store; gate: Gate; appUrl: string; github: (installationId: number) => Promise<GitHubClient>; log?: Logger }): RequestOutbox {
  const publisher = new Publisher({ store: options.store, appUrl: options.appUrl, github: options.github, log: options.log });
  return {
    publisher,
    handlers: {
      [PUBLISH_JOB]: async (job) => {
        if (!job.requestId) return;
        if (await publisher.publish(job.requestId)) await options.gate.announce(job.requestId);
      },
      [REPLY_JOB]: async (job) => {
        const queued = job.payload as unknown as ReplyJob;
        // A rename since the reply was queued moved its request: the reply follows it, not the old name another repository may have taken.
        const request = job.requestId ? await options.store.getRequest(job.requestId) : undefined;
        const [owner, repo] = request?.repository.split('/') ?? [];
        const reply = owner && repo && request?.facts.installationId === queued.installationId ? { ...queued, owner, repo } : queued;
        const to = request ? requestRepository(options.store, request.id, reply) : undefined;
        await sendReply(await options.github(reply.installationId), reply, { retry: job.attempts > 1, queuedAt: job.createdAt, to });
      },
    },
    // A request nobody can see on GitHub cannot be approved fairly; a reply that never arrives is only on record.
    onGiveUp: async (job, err) => {
      if (!job.requestId) return;
      await options.store.appendAudit({ type: 'publish_failed', actor: 'app', requestId: job.requestId, facts: { job: job.kind, attempts: job.attempts, error: err.message } });
      if (job.kind === PUBLISH_JOB) await options.gate.publicationFailed(job.requestId, err.message);
    },
  };
}
