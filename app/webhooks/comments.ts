/**
 * `/approve` and `/reject` in PR and approval-issue comments. Only `issue_comment.created` is
 * subscribed: an edited comment could otherwise turn an old "LGTM" into a vote after the fact.
 */
import type { Context } from 'probot';
import type { Gate } from '../gate/gate.js';
import { helpReply, refusedReply } from '../render/replies.js';
import type { ApprovalRequest, Store } from '../store/store.js';
import { parseCommand, targetAction } from './commands.js';

export function handleComment(gate: Gate, store: Store) {
  return async (context: Context<'issue_comment.created'>): Promise<void> => {
    const { comment, issue, repository, sender } = context.payload;
    // Bots, this App included, never vote here; replying to them could loop.
    if (sender.type === 'Bot' || comment.user?.type === 'Bot') return;
    const command = parseCommand(comment.body);
    if (!command) return;
    const requests = await store.listRequestsForIssue(String(repository.id), issue.number);
    if (requests.length === 0) return; // not a thread the gate is waiting on
    const reply = async (body: string) => {
      await context.octokit.rest.issues.createComment(context.repo({ issue_number: issue.number, body }));
    };
    const login = sender.login;
    if (command.kind === 'invalid') return reply(helpReply(login, command.problem, command.suggestion));

    const pending = newestPerAction(requests.filter((r) => r.status === 'pending'));
    if (pending.length === 0) return reply(refusedReply(login, 'nothing is waiting for approval here any more'));
    let target = pending[0];
    let text = command.kind === 'approve' ? command.note : command.reason;
    if (pending.length > 1) {
      const named = targetAction(text, pending.map((r) => r.action));
      if (!named) {
        const actions = pending.map((r) => `\`${r.action}\``).join(', ');
        return reply(helpReply(login, `several requests are waiting here (${actions}); name the one you mean, for example \`/${command.kind} ${pending[0].action} …\``));
      }
      target = pending.find((r) => r.action === named.action)!;
      text = named.rest;
      if (command.kind === 'reject' && text.length === 0) return reply(helpReply(login, '`/reject` needs a reason'));
    }
    const outcome = await gate.vote({ requestId: target.id, login, senderType: sender.type, choice: command.kind, note: text, via: 'comment' });
    if (!outcome.counted) await reply(refusedReply(login, outcome.why));
  };
}

/**
 * Several runs may wait on one PR with the same action (a re-run, a new push): a command is for the
 * newest, which is the run of what the PR shows now. Distinct actions must be named.
 */
function newestPerAction(oldestFirst: readonly ApprovalRequest[]): ApprovalRequest[] {
  const newest = new Map<string, ApprovalRequest>();
  for (const request of oldestFirst) newest.set(request.action, request);
  return [...newest.values()];
}
