/** The Approve and Reject buttons on the check run, delivered as `check_run.requested_action`. */
import type { Context } from 'probot';
import type { Gate } from '../gate/gate.js';
import { replyTimer } from '../outbox/index.js';
import type { Store } from '../store/store.js';
import { APPROVE_BUTTON, REJECT_BUTTON } from '../render/check-run.js';
import { refusedReply } from '../render/replies.js';
import type { GateRequest } from '../gate/request.js';

/** The check run is one the App made for the request (its own, or one a racing publication made too). */
const isCheckRunOf = (request: GateRequest, checkRunId: number) => request.checkRun?.id === checkRunId || (request.otherCheckRunIds ?? []).includes(checkRunId);

export function handleButton(gate: Gate) {
  return async (context: Context<'check_run.requested_action'>): Promise<boolean> => {
    const { check_run: checkRun, requested_action: action, repository, sender } = context.payload;
    const choice = action?.identifier === APPROVE_BUTTON.identifier ? 'approve' : action?.identifier === REJECT_BUTTON.identifier ? 'reject' : undefined;
    if (!choice || !checkRun.external_id) return false;
    const request = await gate.view(checkRun.external_id);
    // The external id is ours, but check it belongs to this repository and this very check run.
    if (!request || request.repositoryId !== String(repository.id) || !isCheckRunOf(request, checkRun.id)) return false;
    // A button click has no thread of its own; a vote that does not count is answered where the request is discussed.
    const thread = request.pullNumber ?? request.issue?.number;
    const outcome = await gate.vote({
      requestId: request.id,
      login: sender.login,
      senderId: String(sender.id),
      senderType: sender.type,
      choice,
      note: choice === 'reject' ? 'rejected with the check run button' : '',
      via: 'button',
      repository: { owner: repository.owner.login, repo: repository.name },
      handledBy: { delivery: { id: context.id, event: 'check_run.requested_action' } },
      ...(thread !== undefined
        ? { replyIfRefused: (why: string) => replyTimer({ installationId: request.installationId, owner: request.owner, repo: request.repo, issueNumber: thread, body: refusedReply(sender.login, why), answers: `click ${context.id}` }, request.id) }
        : {}),
    });
    if (outcome.counted) return true;
    if (thread === undefined) context.log.warn({ requestId: request.id, login: sender.login, why: outcome.why }, 'button vote not counted');
    return outcome.handled;
  };
}

/**
 * Someone clicked "Re-run" on the approval check run: show it again as the store has it (the state
 * may have drifted if GitHub lost an update). Only this App's own check run of the request counts.
 */
export function handleRerun(gate: Gate, store: Store) {
  return async (context: Context<'check_run.rerequested'>): Promise<void> => {
    const { check_run: checkRun, repository } = context.payload;
    if (!checkRun.external_id) return;
    const request = await gate.view(checkRun.external_id);
    if (!request || request.repositoryId !== String(repository.id) || !isCheckRunOf(request, checkRun.id)) return;
    await store.enqueuePublish(request.id);
  };
}
