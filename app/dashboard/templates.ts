/**
 * The dashboard's pages, as Eta templates. `<%= %>` escapes (autoEscape); nothing is written raw
 * except `it.body`, which is a page these templates rendered. They live in TypeScript so the build
 * carries them. Pages work without JavaScript and carry no inline script or style (the CSP forbids both).
 */
import { Eta } from 'eta';

const LAYOUT = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title><%= it.title %> · Mercurial JIT</title>
<link rel="stylesheet" href="<%= it.base %>/static/dashboard.css">
</head>
<body>
<header class="top">
<a class="brand" href="<%= it.base %>/">Mercurial JIT</a>
<% if (it.user) { %>
<nav aria-label="Dashboard">
<ul>
<li><a href="<%= it.base %>/"<% if (it.section === 'waiting') { %> aria-current="page"<% } %>>Waiting for me</a></li>
<li><a href="<%= it.base %>/requests"<% if (it.section === 'requests') { %> aria-current="page"<% } %>>All requests</a></li>
<li><a href="<%= it.base %>/audit"<% if (it.section === 'audit') { %> aria-current="page"<% } %>>Audit</a></li>
<li><a href="<%= it.base %>/explain"<% if (it.section === 'explain') { %> aria-current="page"<% } %>>Explain</a></li>
</ul>
</nav>
<form class="sign-out" method="post" action="<%= it.base %>/sign-out">
<input type="hidden" name="csrf" value="<%= it.csrf %>">
<span>Signed in as <strong>@<%= it.user %></strong></span>
<button type="submit">Sign out</button>
</form>
<% } %>
</header>
<main id="main">
<%~ it.body %>
</main>
</body>
</html>
`;

const NOT_CONFIGURED = `<h1>The dashboard is not enabled</h1>
<p>This App has no OAuth credentials, so nobody can sign in and the dashboard shows nothing.
The check run on GitHub shows the request's status and decision.</p>
<p>To enable the dashboard, give the App its GitHub App's OAuth credentials and register its callback URL:</p>
<ol>
<li>On the GitHub App's settings page, generate a client secret.</li>
<li>Set <code>GITHUB_CLIENT_ID</code> and <code>GITHUB_CLIENT_SECRET</code> in the App's environment.</li>
<li>Add <code><%= it.callbackUrl %></code> as a <em>Callback URL</em> of the GitHub App.</li>
<li>Restart the App.</li>
</ol>
`;

const SIGN_IN = `<h1>Sign in</h1>
<p>Sign in with GitHub to see the approval requests of the repositories you can read, and to approve or reject those you may.</p>
<p><a class="button" href="<%= it.startUrl %>">Sign in with GitHub</a></p>
`;

const ERROR = `<h1><%= it.heading %></h1>
<p><%= it.message %></p>
<p><a href="<%= it.base %>/">Back to the dashboard</a></p>
`;

const REQUEST_TABLE = `<div class="table-wrap">
<table>
<caption class="visually-hidden"><%= it.caption %></caption>
<thead><tr><th scope="col">Request</th><th scope="col">Repository</th><th scope="col">Environment</th><th scope="col">Severity</th><th scope="col">Requester</th><th scope="col">Status</th><th scope="col">Age</th><th scope="col">Deadline</th></tr></thead>
<tbody>
<% it.rows.forEach(function (row) { %>
<tr>
<td><a href="<%= row.href %>"><%= row.action %></a></td>
<td><%= row.repository %></td>
<td><%= row.environment %></td>
<td><%= row.severity %></td>
<td>@<%= row.requester %></td>
<td><span class="status status-<%= row.status %>"><%= row.statusText %></span></td>
<td><% if (row.createdAt) { %><time datetime="<%= row.createdAt %>"><%= row.age %></time><% } else { %><%= row.age %><% } %></td>
<td><% if (row.deadline) { %><time datetime="<%= row.deadline %>"><%= row.deadlineText %></time><% } else { %>—<% } %></td>
</tr>
<% }) %>
</tbody>
</table>
</div>
`;

const WAITING = `<h1>Waiting for me</h1>
<p>Pending requests you may approve, oldest first.</p>
<% if (it.rows.length === 0) { %>
<p class="empty">Nothing is waiting for you.</p>
<% } else { %>
<%~ include('@table', { rows: it.rows, caption: 'Requests waiting for you' }) %>
<% } %>
<% if (it.truncated) { %><p class="notice">Only the oldest <%= it.checked %> pending requests were checked.</p><% } %>
`;

const FILTER_FIELDS = `<div class="filters">
<div><label for="f-repository">Repository</label>
<select id="f-repository" name="repository"><option value="">All readable</option>
<% it.repositories.forEach(function (r) { %><option value="<%= r %>"<% if (r === it.filters.repository) { %> selected<% } %>><%= r %></option><% }) %></select></div>
<% if (it.withStatus) { %>
<div><label for="f-status">Status</label>
<select id="f-status" name="status"><option value="">Any</option>
<% it.statuses.forEach(function (s) { %><option value="<%= s %>"<% if (s === it.filters.status) { %> selected<% } %>><%= s %></option><% }) %></select></div>
<% } %>
<div><label for="f-action">Action</label><input id="f-action" name="action" value="<%= it.filters.action %>"></div>
<div><label for="f-environment">Environment</label><input id="f-environment" name="environment" value="<%= it.filters.environment %>"></div>
<% if (it.withStatus) { %>
<div><label for="f-requester">Requester</label><input id="f-requester" name="requester" value="<%= it.filters.requester %>"></div>
<div><label for="f-approver">Approver</label><input id="f-approver" name="approver" value="<%= it.filters.approver %>"></div>
<% } else { %>
<div><label for="f-type">Event</label><input id="f-type" name="type" value="<%= it.filters.type %>"></div>
<div><label for="f-actor">Actor</label><input id="f-actor" name="actor" value="<%= it.filters.actor %>"></div>
<% } %>
<div><label for="f-from">From</label><input id="f-from" name="from" type="date" value="<%= it.filters.from %>"></div>
<div><label for="f-to">To</label><input id="f-to" name="to" type="date" value="<%= it.filters.to %>"></div>
</div>
<button type="submit">Filter</button>
`;

const REQUESTS = `<h1>All requests</h1>
<form method="get" action="<%= it.base %>/requests" class="filter-form">
<%~ include('@filters', it) %>
</form>
<% if (it.rows.length === 0) { %>
<p class="empty">No requests match.</p>
<% } else { %>
<%~ include('@table', { rows: it.rows, caption: 'Requests' }) %>
<% } %>
<% if (it.nextUrl) { %><p><a rel="next" href="<%= it.nextUrl %>">Older requests</a></p><% } %>
`;

const REQUEST = `<h1><span class="status status-<%= it.status %>"><%= it.statusText %></span> <%= it.action %><% if (it.environment) { %> to <%= it.environment %><% } %></h1>
<p class="meta"><%= it.repository %> · requested by @<%= it.requester %> · <time datetime="<%= it.createdAt %>"><%= it.createdAtText %></time><% if (it.deadline) { %> · deadline <time datetime="<%= it.deadline %>"><%= it.deadlineText %></time><% } %></p>
<% if (it.reason) { %><p><strong>Why:</strong> <%= it.reason %></p><% } %>
<% if (it.summary) { %><p><strong>Summary:</strong> <%= it.summary %></p><% } %>
<ul class="links">
<li><a href="<%= it.runUrl %>">Workflow run <%= it.runId %></a></li>
<% if (it.checkRunUrl) { %><li><a href="<%= it.checkRunUrl %>">Check run</a></li><% } %>
<% if (it.pullUrl) { %><li><a href="<%= it.pullUrl %>">Pull request #<%= it.pullNumber %></a></li><% } %>
<% if (it.issueUrl) { %><li><a href="<%= it.issueUrl %>">Approval issue #<%= it.issueNumber %></a></li><% } %>
</ul>

<% if (it.result) { %><p class="notice <%= it.result.counted ? 'ok' : 'refused' %>" role="status"><%= it.result.text %></p><% } %>

<section aria-labelledby="you">
<h2 id="you">Your vote</h2>
<p class="<%= it.eligibility.eligible ? 'ok' : 'refused' %>"><%= it.eligibility.reason %></p>
<% if (it.eligibility.eligible) { %>
<div class="vote-forms">
<form method="post" action="<%= it.voteUrl %>">
<input type="hidden" name="csrf" value="<%= it.csrf %>">
<input type="hidden" name="choice" value="approve">
<label for="approve-note">Note (optional)</label>
<textarea id="approve-note" name="note" rows="2" maxlength="1000"></textarea>
<button type="submit" class="approve">Approve</button>
</form>
<form method="post" action="<%= it.voteUrl %>">
<input type="hidden" name="csrf" value="<%= it.csrf %>">
<input type="hidden" name="choice" value="reject">
<label for="reject-reason">Reason (required)</label>
<textarea id="reject-reason" name="note" rows="2" maxlength="1000" required></textarea>
<button type="submit" class="reject">Reject</button>
</form>
</div>
<% } %>
</section>

<section aria-labelledby="decision">
<h2 id="decision">Decision</h2>
<% if (it.decision) { %>
<p><%= it.decision.summary %></p>
<% if (it.decision.problems.length) { %><ul><% it.decision.problems.forEach(function (p) { %><li><%= p %></li><% }) %></ul><% } %>
<h3>Rules</h3>
<ul class="rules">
<% it.decision.rules.forEach(function (rule) { %>
<li><strong><%= rule.name %></strong> — <%= rule.matched ? 'matched' : 'did not match' %><% if (rule.effect !== 'none') { %> (<%= rule.effect.replace('_', ' ') %>)<% } %>
<ul><% rule.conditions.forEach(function (c) { %><li><code><%= c.key %></code>: <%= c.matched ? 'holds' : 'does not hold' %> — <%= c.reason %></li><% }) %>
<% rule.escalations.forEach(function (e) { %><li>escalation (<%= e.kind %>): <%= e.applied ? 'applies' : 'does not apply' %> — <%= e.reason %></li><% }) %></ul>
</li>
<% }) %>
</ul>
<h3>Requirements</h3>
<% if (it.requirements.length === 0) { %><p>Nothing needs approval.</p><% } %>
<% it.requirements.forEach(function (req) { %>
<div class="requirement">
<p><strong><%= req.name %></strong>: <%= req.approvals %> approval<%= req.approvals === 1 ? '' : 's' %> from <%= req.who %><% if (req.unsatisfiable) { %> — <em>cannot be met: <%= req.unsatisfiable %></em><% } %></p>
<% if (req.groups.length) { %>
<ul><% req.groups.forEach(function (g) { %><li><%= g.fileCount %> file<%= g.fileCount === 1 ? '' : 's' %> owned by <code><%= g.patterns.join(', ') %></code>: one approval from <%= g.owners.join(', ') %></li><% }) %></ul>
<% } %>
</div>
<% }) %>
<% } else { %>
<p>The policy has not been evaluated yet.</p>
<% } %>
</section>

<section aria-labelledby="votes">
<h2 id="votes">Votes</h2>
<% if (it.votes.length === 0) { %><p>No votes yet.</p><% } else { %>
<ul><% it.votes.forEach(function (v) { %><li><strong>@<%= v.login %></strong> <%= v.choice %>d via <%= v.via %> <time datetime="<%= v.at %>"><%= v.atText %></time><% if (v.note) { %>: <q><%= v.note %></q><% } %></li><% }) %></ul>
<% } %>
</section>

<section aria-labelledby="timeline">
<h2 id="timeline">Timeline</h2>
<% if (it.firstEventsUrl) { %><p><a href="<%= it.firstEventsUrl %>">From the first event</a></p><% } %>
<ol class="timeline"><% it.timeline.forEach(function (e) { %><li><% if (e.at) { %><time datetime="<%= e.at %>"><%= e.atText %></time><% } else { %><%= e.atText %><% } %> <strong><%= e.type %></strong> by @<%= e.actor %><% if (e.detail) { %> — <%= e.detail %><% } %><% if (e.problem) { %> <strong class="refused"><%= e.problem %></strong><% } %></li><% }) %></ol>
<% if (it.laterEventsUrl) { %><p><a href="<%= it.laterEventsUrl %>">Later events</a></p><% } %>
</section>
`;

const AUDIT = `<h1>Audit</h1>
<p class="notice <%= it.verification.ok ? 'ok' : 'refused' %>" role="status"><%= it.verification.text %></p>
<form method="get" action="<%= it.base %>/audit" class="filter-form">
<%~ include('@filters', it) %>
</form>
<p>Export these events: <a href="<%= it.csvUrl %>" download>CSV</a> · <a href="<%= it.jsonlUrl %>" download>JSON Lines</a></p>
<% if (it.rows.length === 0) { %><p class="empty">No events match.</p><% } else { %>
<div class="table-wrap">
<table>
<caption class="visually-hidden">Audit events</caption>
<thead><tr><th scope="col">#</th><th scope="col">When</th><th scope="col">Event</th><th scope="col">Actor</th><th scope="col">Request</th><th scope="col">Details</th></tr></thead>
<tbody>
<% it.rows.forEach(function (e) { %>
<tr><td><%= e.seq %></td><td><% if (e.at) { %><time datetime="<%= e.at %>"><%= e.atText %></time><% } else { %><%= e.atText %><% } %></td><td><%= e.type %></td><td>@<%= e.actor %></td><td><a href="<%= e.href %>"><%= e.requestLabel %></a></td><td><%= e.detail %><% if (e.problem) { %> <strong class="refused"><%= e.problem %></strong><% } %></td></tr>
<% }) %>
</tbody>
</table>
</div>
<% } %>
<% if (it.nextUrl) { %><p><a rel="next" href="<%= it.nextUrl %>">Later events</a></p><% } %>
`;

const EXPLAIN = `<h1>Explain</h1>
<p>Choose a repository and fill in the facts of a run: see what its policy on the default branch decides now.</p>
<form method="post" action="<%= it.base %>/explain" class="filter-form">
<input type="hidden" name="csrf" value="<%= it.csrf %>">
<div class="filters">
<div><label for="e-repository">Repository</label>
<select id="e-repository" name="repository" required>
<% it.repositories.forEach(function (r) { %><option value="<%= r %>"<% if (r === it.form.repository) { %> selected<% } %>><%= r %></option><% }) %></select></div>
<div><label for="e-action">Action</label><input id="e-action" name="action" required value="<%= it.form.action %>"></div>
<div><label for="e-environment">Environment</label><input id="e-environment" name="environment" value="<%= it.form.environment %>"></div>
<div><label for="e-branch">Branch</label><input id="e-branch" name="branch" value="<%= it.form.branch %>"></div>
<div><label for="e-severity">Severity</label><input id="e-severity" name="severity" value="<%= it.form.severity %>"></div>
<div><label for="e-event">Event</label><input id="e-event" name="event" value="<%= it.form.event %>"></div>
</div>
<label for="e-files">Changed files (one a line)</label>
<textarea id="e-files" name="files" rows="4"><%= it.form.files %></textarea>
<button type="submit">Explain</button>
</form>
<% if (it.problems) { %>
<section aria-labelledby="result"><h2 id="result">The policy cannot be used</h2>
<ul><% it.problems.forEach(function (p) { %><li><code><%= p %></code></li><% }) %></ul></section>
<% } %>
<% if (it.decision) { %>
<section aria-labelledby="result"><h2 id="result">Decision: <%= it.decision.outcome.replace('_', ' ') %></h2>
<p><%= it.decision.summary %> (policy of <%= it.form.repository %>@<%= it.defaultBranch %>)</p>
<h3>Rules</h3>
<ul class="rules">
<% it.decision.rules.forEach(function (rule) { %>
<li><strong><%= rule.name %></strong> — <%= rule.matched ? 'matched' : 'did not match' %>
<ul><% rule.conditions.forEach(function (c) { %><li><code><%= c.key %></code>: <%= c.matched ? 'holds' : 'does not hold' %> — <%= c.reason %></li><% }) %></ul></li>
<% }) %>
</ul>
<h3>Requirements</h3>
<% if (it.requirements.length === 0) { %><p>Nothing needs approval.</p><% } %>
<ul><% it.requirements.forEach(function (req) { %><li><strong><%= req.name %></strong>: <%= req.approvals %> from <%= req.who %></li><% }) %></ul>
</section>
<% } %>
`;

/** One Eta with every page loaded; `<%= %>` escapes HTML. */
export function dashboardTemplates(): Eta {
  const eta = new Eta({ autoEscape: true, useWith: false, varName: 'it', cache: true });
  const pages: Record<string, string> = {
    '@layout': LAYOUT, '@not-configured': NOT_CONFIGURED, '@sign-in': SIGN_IN, '@error': ERROR, '@table': REQUEST_TABLE,
    '@filters': FILTER_FIELDS, '@waiting': WAITING, '@requests': REQUESTS, '@request': REQUEST, '@audit': AUDIT, '@explain': EXPLAIN,
  };
  for (const [name, text] of Object.entries(pages)) eta.loadTemplate(name, text);
  return eta;
}
