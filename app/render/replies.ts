/** Replies to a command that did not count. */
export function helpReply(login: string, problem: string, suggestion?: string): string {
  return [
    `@${login} ${problem}.${suggestion ? ` Did you mean \`${suggestion}\`?` : ''}`,
    '',
    'Commands: `/approve` or `/approve <note>` approves; `/reject <reason>` rejects (a reason is required). Where several requests wait, name one first, in brackets as listed: `/approve [deploy production] <note>`, or the start of its id. Write the command on the first line of a new comment; edits are not counted.',
  ].join('\n');
}

export function refusedReply(login: string, why: string): string {
  return `@${login} your vote was not counted: ${why}.`;
}

/** Added to the last reply a person gets on a thread before their allowance (see COMMAND_REPLIES) runs out. */
export function lastReplyNote(max: number, windowMinutes: number): string {
  return `Further commands of yours here that do not count are still recorded, but will not be answered for a while: each person gets at most ${max} such answers on a thread in any ${windowMinutes} minutes.`;
}
