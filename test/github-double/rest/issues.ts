/** Issues, issue comments and reactions. */
import { forbiddenForIntegration, githubError, notFound, paginate, validationFailed } from '../http.js';
import { assertCommentBody, assertIssueBody, assertIssueTitle } from '../limits.js';
import { commentJson, issueEventJson, issueJson, reactionJson } from '../shapes.js';
import { REACTION_CONTENTS, type Comment, type Issue, type ReactionContent, type User } from '../types.js';
import { actingUser, callerAppId, stringField, type RestContext, type RestRegistrar } from './context.js';

function findIssue(ctx: RestContext): Issue {
  const issue = ctx.state.issue(ctx.repo, Number(ctx.params.issue_number));
  if (!issue) throw notFound();
  return issue;
}

/** A repository whose issues are off answers 410 for its issues, read or written; a pull request's conversation still works. */
function assertIssuesOn(ctx: RestContext, issue?: Issue): void {
  if (!ctx.repo.hasIssues && issue?.pullNumber === undefined) throw githubError(410, 'Issues are disabled for this repo');
}

function findComment(ctx: RestContext): Comment {
  const comment = ctx.state.comments.get(Number(ctx.params.comment_id));
  if (!comment || comment.repoId !== ctx.repo.id) throw notFound();
  return comment;
}

function users(ctx: RestContext, logins: unknown): User[] | undefined {
  if (!Array.isArray(logins)) return undefined;
  return logins.map((login) => {
    const user = ctx.state.user(String(login));
    if (!user) throw validationFailed([{ resource: 'Issue', field: 'assignees', code: 'invalid', message: `${String(login)} is not a user` }]);
    return user;
  });
}

function labels(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.map((l) => (typeof l === 'string' ? l : String((l as { name?: string }).name))) : undefined;
}

function reactionContent(ctx: RestContext): ReactionContent {
  const content = stringField(ctx.body, 'content');
  if (!content || !REACTION_CONTENTS.includes(content as ReactionContent)) {
    throw validationFailed([{ resource: 'Reaction', field: 'content', code: 'invalid', message: `content must be one of ${REACTION_CONTENTS.join(', ')}` }]);
  }
  return content as ReactionContent;
}

export const registerIssues: RestRegistrar = (add) => {
  add('POST', '/repos/{owner}/{repo}/issues', {
    auth: 'token', permission: ['issues', 'write'],
    handler: (ctx) => {
      assertIssuesOn(ctx);
      const title = stringField(ctx.body, 'title');
      if (!title) throw validationFailed([{ resource: 'Issue', field: 'title', code: 'missing_field' }]);
      assertIssueTitle(title);
      assertIssueBody(stringField(ctx.body, 'body'));
      const issue = ctx.state.createIssue(ctx.repo, actingUser(ctx), {
        title, body: stringField(ctx.body, 'body') ?? null, labels: labels(ctx.body.labels) ?? [], assignees: users(ctx, ctx.body.assignees),
      });
      return { status: 201, body: issueJson(issue, ctx.repo, ctx.state, ctx.urls) };
    },
  });

  add('GET', '/repos/{owner}/{repo}/issues', {
    auth: 'token', permission: ['issues', 'read'],
    handler: (ctx) => {
      const q = ctx.url.searchParams;
      const state = q.get('state') ?? 'open';
      const wantedLabels = q.get('labels')?.split(',').filter(Boolean) ?? [];
      const issues = [...(ctx.state.issues.get(ctx.repo.id)?.values() ?? [])]
        .filter((i) => state === 'all' || i.state === state)
        .filter((i) => wantedLabels.every((l) => i.labels.includes(l)))
        .filter((i) => !q.get('creator') || i.author.login.toLowerCase() === q.get('creator')?.toLowerCase())
        // GitHub: "Only show results that were last updated after the given time".
        .filter((i) => !q.get('since') || i.updatedAt >= (q.get('since') as string))
        .sort((a, b) => b.number - a.number);
      const { page, headers } = paginate(issues, ctx.url);
      return { status: 200, headers, body: page.map((i) => issueJson(i, ctx.repo, ctx.state, ctx.urls)) };
    },
  });

  add('GET', '/repos/{owner}/{repo}/issues/{issue_number}', {
    auth: 'token', permission: ['issues', 'read'],
    handler: (ctx) => {
      const issue = findIssue(ctx);
      assertIssuesOn(ctx, issue);
      return { status: 200, body: issueJson(issue, ctx.repo, ctx.state, ctx.urls) };
    },
  });

  // Oldest first, as GitHub lists them. The double records only a pull request's `base_ref_changed`.
  add('GET', '/repos/{owner}/{repo}/issues/{issue_number}/events', {
    auth: 'token', permission: ['issues', 'read'],
    handler: (ctx) => {
      const issue = findIssue(ctx);
      assertIssuesOn(ctx, issue);
      const events = ctx.state.issueEvents.filter((e) => e.repoId === ctx.repo.id && e.issueNumber === issue.number);
      const { page, headers } = paginate(events, ctx.url);
      return { status: 200, headers, body: page.map((e) => issueEventJson(e, ctx.repo, ctx.urls)) };
    },
  });

  add('PATCH', '/repos/{owner}/{repo}/issues/{issue_number}', {
    auth: 'token', permission: ['issues', 'write'],
    handler: (ctx) => {
      const issue = findIssue(ctx);
      assertIssuesOn(ctx, issue);
      const state = stringField(ctx.body, 'state');
      if (state !== undefined && state !== 'open' && state !== 'closed') throw validationFailed([{ resource: 'Issue', field: 'state', code: 'invalid' }]);
      const stateReason = ctx.body.state_reason as Issue['stateReason'] | undefined;
      if (stateReason !== undefined && stateReason !== null && !['completed', 'not_planned', 'reopened'].includes(stateReason)) {
        throw validationFailed([{ resource: 'Issue', field: 'state_reason', code: 'invalid' }]);
      }
      assertIssueTitle(stringField(ctx.body, 'title'));
      assertIssueBody(stringField(ctx.body, 'body'));
      ctx.state.updateIssue(ctx.repo, issue, {
        title: stringField(ctx.body, 'title'), body: ctx.body.body === undefined ? undefined : (ctx.body.body as string | null),
        state, stateReason, labels: labels(ctx.body.labels), assignees: users(ctx, ctx.body.assignees),
      });
      return { status: 200, body: issueJson(issue, ctx.repo, ctx.state, ctx.urls) };
    },
  });

  add('POST', '/repos/{owner}/{repo}/issues/{issue_number}/comments', {
    auth: 'token', permission: ['issues', 'write'],
    handler: (ctx) => {
      const issue = findIssue(ctx);
      assertIssuesOn(ctx, issue);
      const body = stringField(ctx.body, 'body');
      if (body === undefined || body === '') throw validationFailed([{ resource: 'IssueComment', field: 'body', code: 'missing_field' }]);
      assertCommentBody(body, 'create');
      const comment = ctx.state.createComment(ctx.repo, issue, actingUser(ctx), body, callerAppId(ctx));
      return { status: 201, body: commentJson(comment, ctx.repo, ctx.state, ctx.urls) };
    },
  });

  add('GET', '/repos/{owner}/{repo}/issues/{issue_number}/comments', {
    auth: 'token', permission: ['issues', 'read'],
    handler: (ctx) => {
      const issue = findIssue(ctx);
      assertIssuesOn(ctx, issue);
      const since = ctx.url.searchParams.get('since');
      const comments = ctx.state.commentsOf(ctx.repo, issue.number).filter((c) => !since || c.updatedAt >= since);
      const { page, headers } = paginate(comments, ctx.url);
      return { status: 200, headers, body: page.map((c) => commentJson(c, ctx.repo, ctx.state, ctx.urls)) };
    },
  });

  add('GET', '/repos/{owner}/{repo}/issues/comments/{comment_id}', {
    auth: 'token', permission: ['issues', 'read'],
    handler: (ctx) => ({ status: 200, body: commentJson(findComment(ctx), ctx.repo, ctx.state, ctx.urls) }),
  });

  add('PATCH', '/repos/{owner}/{repo}/issues/comments/{comment_id}', {
    auth: 'token', permission: ['issues', 'write'],
    handler: (ctx) => {
      const comment = findComment(ctx);
      const editor = actingUser(ctx);
      // An App may edit only its own comments.
      if (comment.author.id !== editor.id) throw forbiddenForIntegration();
      const body = stringField(ctx.body, 'body');
      if (body === undefined || body === '') throw validationFailed([{ resource: 'IssueComment', field: 'body', code: 'missing_field' }]);
      assertCommentBody(body, 'edit');
      ctx.state.editComment(ctx.repo, comment, editor, body);
      return { status: 200, body: commentJson(comment, ctx.repo, ctx.state, ctx.urls) };
    },
  });

  add('POST', '/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions', {
    auth: 'token', permission: ['issues', 'write'],
    handler: (ctx) => {
      const comment = findComment(ctx);
      const { reaction, created } = ctx.state.react({ kind: 'comment', commentId: comment.id }, actingUser(ctx), reactionContent(ctx));
      return { status: created ? 201 : 200, body: reactionJson(reaction, ctx.urls) };
    },
  });

  add('GET', '/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions', {
    auth: 'token', permission: ['issues', 'read'],
    handler: (ctx) => {
      const comment = findComment(ctx);
      const content = ctx.url.searchParams.get('content');
      const reactions = ctx.state.reactionsOn({ kind: 'comment', commentId: comment.id }).filter((r) => !content || r.content === content);
      const { page, headers } = paginate(reactions, ctx.url);
      return { status: 200, headers, body: page.map((r) => reactionJson(r, ctx.urls)) };
    },
  });

  add('POST', '/repos/{owner}/{repo}/issues/{issue_number}/reactions', {
    auth: 'token', permission: ['issues', 'write'],
    handler: (ctx) => {
      const issue = findIssue(ctx);
      const { reaction, created } = ctx.state.react({ kind: 'issue', repoId: ctx.repo.id, number: issue.number }, actingUser(ctx), reactionContent(ctx));
      return { status: created ? 201 : 200, body: reactionJson(reaction, ctx.urls) };
    },
  });

  add('GET', '/repos/{owner}/{repo}/issues/{issue_number}/reactions', {
    auth: 'token', permission: ['issues', 'read'],
    handler: (ctx) => {
      const issue = findIssue(ctx);
      const reactions = ctx.state.reactionsOn({ kind: 'issue', repoId: ctx.repo.id, number: issue.number });
      const { page, headers } = paginate(reactions, ctx.url);
      return { status: 200, headers, body: page.map((r) => reactionJson(r, ctx.urls)) };
    },
  });
};
