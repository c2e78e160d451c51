/**
 * `/approve` and `/reject` in PR and approval-issue comments. A comment votes once, when it is
 * created: an edit never counts (it could turn an old "LGTM" into a vote after the fact), a replay
 * of its delivery under another delivery id never counts twice, and deleting it withdraws its vote
 * while the request is still pending.
 */
import type { Context } from 'probot';
import { APP_ACTOR, type Gate } from '../gate/gate.js';
import { toGateRequest, type RunFacts } from '../gate/request.js';
import { replyTimer } from '../outbox/index.js';
import { checkRunName } from '../render/check-run.js';
import { helpReply, lastReplyNote, refusedReply } from '../render/replies.js';
import { inlineCode, oneLine } from '../render/untrusted.js';
import type { RepoCoordinates } from '../github/github.js';
import type { ApprovalRequest, HandledBy, NewTimer, Store } from '../store/store.js';
import { parseCommand, type Command } from './commands.js';

/** A command comment as both a webhook and the reconciler see it. */
export interface CommandComment {
  /** Its body's command, when already parsed. */
  command?: Command;
  repositoryId: string;
  /** The repository as GitHub names it now: in the delivery of the comment, or as looked up from its id. */
  repository: RepoCoordinates;
  issueNumber: number;
  id: number;
  body: string;
  createdAt: string;
  author: { login: string; id: string; type: string };
}

/** Each delivered comment's command, parsed once for both the look before the store and the handling. */
const commands = new WeakMap<object, Command | undefined>();

function commandOf(comment: { body: string }): Command | undefined {
  if (!commands.has(comment)) commands.set(comment, parseCommand(comment.body));
  return commands.get(comment);
}

/** Whether a new comment can be a command at all; others are answered without a look at the store. */
export function mayBeCommand(context: Context<'issue_comment.created'>): boolean {
  return commandOf(context.payload.comment) !== undefined;
}

export function handleComment(gate: Gate, store: Store) {
  return async (context: Context<'issue_comment.created'>): Promise<void> => {
    const { comment, issue, repository, sender } = context.payload;
    await processCommandComment(gate, store, {
      command: commandOf(comment),
      repositoryId: String(repository.id),
      repository: { owner: repository.owner.login, repo: repository.name },
      issueNumber: issue.number,
      id: comment.id,
      body: comment.body,
      createdAt: comment.created_at,
      // The sender is who created the comment; the comment's user says the same, and either may say "Bot".
      author: { login: sender.login, id: String(sender.id), type: sender.type === 'Bot' || comment.user?.type === 'Bot' ? 'Bot' : sender.type },
    });
  };
}

/** What became of a comment: `acted` when it was a command for a thread the gate waits on. */
export interface CommentOutcome {
  acted: boolean;
}

/**
 * Acts on a comment that may be a command: at most once per comment, whoever brings it (its webhook
 * delivery, a replay of it, or the reconciler after a delivery was lost). The record of what it did
 * marks the comment handled, in one transaction, and that mark decides between two handlings of it
 * at once: the second records nothing.
 */
export async function processCommandComment(gate: Gate, store: Store, comment: CommandComment): Promise<CommentOutcome> {
  const command = 'command' in comment ? comment.command : parseCommand(comment.body);
  if (!command) return { acted: false };
  const { requests, handled, deleted } = await store.commandThread(comment.repositoryId, comment.issueNumber, comment.id);
  // Not a thread of the gate's: the command is about no request, so there is nothing to record it against.
  if (requests.length === 0) return { acted: false };
  if (handled) return { acted: true };
  const marked = await handleCommand(gate, store, command, requests, comment, deleted);
  if (!marked) await store.completeComment(comment.repositoryId, comment.id);
  return { acted: true };
}

/** Handles a command on one of the gate's threads; true when its record marked the comment handled. */
async function handleCommand(
  gate: Gate,
  store: Store,
  command: Command,
  requests: ApprovalRequest[],
  comment: CommandComment,
  deleted: boolean,
): Promise<boolean> {
  const login = comment.author.login;
  const pending = newestPerGate(requests.filter((r) => r.status === 'pending'));
  const thread = requests[requests.length - 1];
  const choice = command.kind === 'invalid' ? command.choice : command.kind;
  // A record that counts nothing is kept even for a comment deleted before it was handled; a vote from
  // one is kept only when it rejects (see `handleDeletedComment`).
  const recordedBy: HandledBy = { comment: { repositoryId: comment.repositoryId, commentId: comment.id, despiteDeletion: true } };
  const votedBy: HandledBy = { comment: { repositoryId: comment.repositoryId, commentId: comment.id, despiteDeletion: command.kind === 'reject' } };
  // Within the commenter's allowance of replies on this thread (COMMAND_REPLIES); past it, the command is only on record.
  const replyWith = (body: string): NewTimer => {
    const facts = thread.facts as { installationId: number; owner: string; repo: string };
    const reply = (text: string) => replyTimer({ installationId: facts.installationId, owner: facts.owner, repo: facts.repo, issueNumber: comment.issueNumber, body: text, answers: `comment ${comment.id}` }, thread.id);
    const { perPerson: max, windowMs } = gate.commandReplies;
    const last = reply(`${body}\n\n${lastReplyNote(max, windowMs / 60_000)}`);
    return { ...reply(body), allowance: { repositoryId: comment.repositoryId, issueNumber: comment.issueNumber, actor: login, max, windowMs, last } };
  };
  /**
   * A command that never reaches a vote is still on record: against each request it may have been
   * for, or, with nothing waiting, against the thread's latest request, which it came too late for.
   * The record, the reply and the mark that the comment is handled are one transaction.
   */
  const onRecord = async (type: 'vote_refused' | 'vote_ignored', reason: string, { reply, about = pending.length > 0 ? pending : [thread] }: { reply?: string; about?: readonly ApprovalRequest[] } = {}) => {
    await store.recordHandled({
      audit: about.map((request) => ({ type, actor: login, requestId: request.id, facts: { choice, via: 'comment', reason, comment_id: comment.id } })),
      timers: reply === undefined ? [] : [replyWith(reply)],
      handledBy: recordedBy,
    });
    return true;
  };
  // Bots, this App included, never vote here, and get no reply (that could loop).
  if (comment.author.type === 'Bot') return onRecord('vote_refused', `@${login} is a bot; bots never vote by comment`);
  // Its deletion reached the App before its creation: whoever deleted it took the approval back.
  if (deleted && command.kind === 'approve') return onRecord('vote_ignored', DELETED_BEFORE_COUNTED);
  if (command.kind === 'invalid') return onRecord('vote_ignored', command.problem, { reply: helpReply(login, command.problem, command.suggestion) });

  if (pending.length === 0) {
    const why = 'nothing is waiting for approval here any more';
    return onRecord('vote_ignored', why, { reply: refusedReply(login, why) });
  }
  const chosen = chooseTarget(command.kind === 'approve' ? command.note : command.reason, pending);
  if (!chosen.target) {
    // The names hold the workflow's words (environment, severity) and `named` the commenter's: as code
    // sized to their backticks, so neither can leave it and write the App's reply.
    const names = pending.map((r) => inlineCode(targetName(r, pending), NAME_SHOWN_MAX)).join(', ');
    const waiting = pending.length === 1 ? `only ${names} is waiting here` : `several requests are waiting here (${names})`;
    const named = chosen.named === undefined ? '' : `${inlineCode(chosen.named, NAME_SHOWN_MAX)} ${chosen.fits ? 'fits more than one of the requests waiting' : 'names none of the requests waiting'}, and `;
    const problem = `${named}${waiting}; name the one you mean, for example ${inlineCode(`/${command.kind} ${targetName(pending[0], pending)} …`, NAME_SHOWN_MAX)}`;
    return onRecord('vote_ignored', problem, { reply: helpReply(login, problem) });
  }
  const { target, rest: text } = chosen;
  if (command.kind === 'reject' && text.length === 0) {
    const problem = '`/reject` needs a reason';
    return onRecord('vote_ignored', problem, { reply: helpReply(login, problem), about: [target] });
  }
  const outcome = await gate.vote({
    requestId: target.id,
    read: target,
    login,
    senderId: comment.author.id,
    senderType: comment.author.type,
    choice: command.kind,
    note: text,
    via: 'comment',
    comment: { id: comment.id, createdAt: comment.createdAt },
    repository: comment.repository,
    handledBy: votedBy,
    replyIfRefused: (why) => replyWith(refusedReply(login, why)),
  });
  // Deleted while its vote was checked, the approval's record (or refusal's) found the comment's mark
  // taken by the deletion and was not written: it is recorded as ignored, as when the deletion came
  // first. The mark lets this record through only over the deletion's, never over another handling's.
  if (!outcome.counted && !outcome.recorded && outcome.handled && command.kind === 'approve') await onRecord('vote_ignored', DELETED_BEFORE_COUNTED, { about: [target] });
  return outcome.counted || outcome.handled;
}

const DELETED_BEFORE_COUNTED = 'the comment was deleted before its approval was counted';

/** Whether an edit left a command in the comment: what the reconciler, reading comments as they are now, would act on. */
export function editedIntoCommand(context: Context<'issue_comment.edited'>): boolean {
  return commandOf(context.payload.comment) !== undefined;
}

/**
 * An edit never votes, and is noted: GitHub's timestamps have whole seconds, so a comment edited in
 * the second it was written lists as never edited, and only this note keeps the reconciler from
 * taking its text now for a command no delivery brought.
 */
export function handleEditedComment(store: Store) {
  return async (context: Context<'issue_comment.edited'>): Promise<void> => {
    await store.markCommentEdited(String(context.payload.repository.id), context.payload.comment.id);
  };
}

/**
 * A deleted command comment withdraws the vote it cast, while the request is still pending. GitHub may
 * deliver its creation after its deletion: a deleted `/approve` never counts then, while a `/reject`
 * still does, since anyone who may delete comments (the requester, often) could otherwise make an
 * approver's rejection vanish before it was counted. Which of the two it was is judged by its
 * creation's text, never by the text it is deleted with: anyone who may delete others' comments may
 * edit them too, and a `/reject` edited into `/approve` before it is deleted still rejects.
 */
export function handleDeletedComment(gate: Gate) {
  return async (context: Context<'issue_comment.deleted'>): Promise<void> => {
    const { comment, repository, sender } = context.payload;
    await gate.withdrawComment(String(repository.id), comment.id, sender?.login ?? APP_ACTOR);
  };
}

/**
 * Several runs may wait on one PR as the same gate (a re-run, a new push): a command is for the
 * newest, which is the run of what the PR shows now. Requests whose check runs are named differently
 * (another action, environment, severity, base branch or event) are different gates, each its own
 * required check, and a command must name the one it means.
 */
function newestPerGate(oldestFirst: readonly ApprovalRequest[]): ApprovalRequest[] {
  const newest = new Map<string, ApprovalRequest>();
  for (const request of oldestFirst) newest.set(checkRunName(toGateRequest(request, [])), request);
  return [...newest.values()];
}

/** A name in a reply (the commenter's, or a request's) is cut to this many characters. */
const NAME_SHOWN_MAX = 300;

/** The words of a request's name, in order: its action, environment and severity. */
const NAMING: readonly ((request: ApprovalRequest) => string)[] = [
  (r) => r.action.toLowerCase(),
  (r) => r.environmentKey,
  (r) => ((r.facts as unknown as RunFacts).severity ?? '').toLowerCase(),
];

/** A request's id as a command may give it: its first eight characters, as the dashboard shows it, or more. */
const ID_WORD = /^[0-9a-f]{8}[0-9a-f-]*$/i;

/**
 * How a command names a request, in brackets: every word of its name it states (`[deploy production
 * high]`), else the start of its id (`[1b2c3d4e]`). Fewer words would do among the requests waiting
 * now, but the workflow can end one and open another that the shorter name then fits instead
 * (`[deploy]` listed for `deploy staging` picks `deploy production` opened in its place).
 */
function targetName(request: ApprovalRequest, pending: readonly ApprovalRequest[]): string {
  const own: string[] = [];
  // A word that is empty, or holds a space or a bracket, cannot be written in a name: the name stops before it.
  for (const word of NAMING.map((name) => name(request))) {
    if (word === '' || /[\s\]]/.test(word)) break;
    own.push(word);
  }
  if (own.length > 0) {
    // Listed only as the command reads it back: a name that also reads as another request's id start is no name for it.
    const fits = namedBy(own, pending);
    const name = `[${own.join(' ')}]`;
    if (fits.length === 1 && fits[0] === request && readsBack(name, request, pending)) return name;
  }
  // The whole id where its start is also some request's action.
  return namedBy([request.id.slice(0, 8).toLowerCase()], pending).length === 1 ? `[${request.id.slice(0, 8)}]` : `[${request.id}]`;
}

/**
 * Whether a name, as the reply shows it (hidden characters dropped, cut to NAME_SHOWN_MAX) and as a
 * comment that copies it reads it (rendered Markdown: escapes, HTML and entities are not text), picks
 * `request` and no other. The environment is the workflow's text: `production\` shows as itself
 * but, written in a comment, reads as `production`.
 */
function readsBack(name: string, request: ApprovalRequest, pending: readonly ApprovalRequest[]): boolean {
  const shown = oneLine(name);
  if (shown !== name || shown.length > NAME_SHOWN_MAX) return false;
  const command = parseCommand(`/approve ${shown}`);
  return command?.kind === 'approve' && command.note === shown && chooseTarget(command.note, pending).target === request;
}

/**
 * The request a command is for. A command names one only in brackets, first thing after the command:
 * its name (`[deploy production high]`) or the start of its id (`[1b2c3d4e]`); the note follows. The
 * action is the workflow's own word, so a name written bare could be a note's first word (`/approve
 * ship it`) that a request was named after to catch it. Named, it is the one waiting request that
 * fits, or none: a command for a request that has ended never counts for another. Unnamed, it is the
 * one request waiting. `named`: the name no single waiting request fits; `fits`: whether several do.
 */
function chooseTarget(text: string, pending: readonly ApprovalRequest[]): { target?: ApprovalRequest; rest: string; named?: string; fits?: boolean } {
  const bracketed = /^\[([^\]]*)\]/.exec(text);
  if (!bracketed) return pending.length === 1 ? { target: pending[0], rest: text } : { rest: text };
  const words = bracketed[1]!.split(/\s+/).filter((word) => word !== '').map((word) => word.toLowerCase());
  const waiting = namedBy(words, pending);
  return waiting.length === 1 ? { target: waiting[0], rest: text.slice(bracketed[0].length).trim() } : { rest: text, named: bracketed[0], fits: waiting.length > 1 };
}

/**
 * The waiting requests a bracketed name fits. A single word like an id's start is read both ways, as
 * the start of an id and as an action (the workflow chooses its action, and could name it after the
 * start of another request's id): it names a request only when exactly one request fits either way.
 */
function namedBy(words: readonly string[], pending: readonly ApprovalRequest[]): ApprovalRequest[] {
  const byName = words.length <= NAMING.length ? pending.filter((r) => words.every((word, i) => NAMING[i]!(r) === word)) : [];
  const byId = words.length === 1 && ID_WORD.test(words[0]!) ? pending.filter((r) => r.id.toLowerCase().startsWith(words[0]!)) : [];
  return [...new Set([...byName, ...byId])];
}
