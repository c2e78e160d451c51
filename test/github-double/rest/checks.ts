/** Check runs, with the limits GitHub's Checks API enforces. */
import { forbiddenForIntegration, notFound, paginate, validationFailed, type FieldError } from '../http.js';
import { annotationBreaksLimits, checkOutputTooLong, invalidAnnotations } from '../limits.js';
import { checkRunJson } from '../shapes.js';
import { timestamp } from '../state.js';
import type { CheckRun, CheckRunAction } from '../types.js';
import { callerAppId, type RestContext, type RestRegistrar } from './context.js';

const STATUSES = ['queued', 'in_progress', 'completed'] as const;
/** Reserved for GitHub Actions; an App may not set them. */
const RESERVED_STATUSES = ['waiting', 'requested', 'pending'];
const CONCLUSIONS = ['action_required', 'cancelled', 'failure', 'neutral', 'success', 'skipped', 'timed_out'];
const LIMITS = { actions: 3, label: 20, description: 40, identifier: 20, annotations: 50 };

type Fields = Partial<Omit<CheckRun, 'id' | 'repoId' | 'appId' | 'checkSuiteId' | 'updatedAt'>> & { annotationsAdded?: number };

function isDate(value: unknown): value is string {
  return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value));
}

/** Validates a create/update body and returns the fields it sets. */
function readCheckRunBody(body: Record<string, unknown>, creating: boolean): Fields {
  const errors: FieldError[] = [];
  const invalid = (field: string, message: string) => errors.push({ resource: 'CheckRun', field, code: 'invalid', message });
  const fields: Fields = {};

  for (const name of creating ? ['name', 'head_sha'] : []) {
    if (typeof body[name] !== 'string' || body[name] === '') errors.push({ resource: 'CheckRun', field: name, code: 'missing_field', message: `${name} is required` });
  }
  if (typeof body.name === 'string') fields.name = body.name;
  if (typeof body.head_sha === 'string') fields.headSha = body.head_sha;
  if (body.details_url !== undefined) fields.detailsUrl = String(body.details_url);
  if (body.external_id !== undefined) fields.externalId = String(body.external_id);
  for (const [key, target] of [['started_at', 'startedAt'], ['completed_at', 'completedAt']] as const) {
    if (body[key] === undefined) continue;
    if (isDate(body[key])) fields[target] = timestamp(new Date(body[key]));
    else invalid(key, `${key} must be an ISO 8601 timestamp`);
  }
  if (body.status !== undefined) {
    if (RESERVED_STATUSES.includes(String(body.status))) invalid('status', `status ${String(body.status)} is reserved for GitHub Actions`);
    else if (!STATUSES.includes(body.status as (typeof STATUSES)[number])) invalid('status', `status must be one of ${STATUSES.join(', ')}`);
    else fields.status = body.status as CheckRun['status'];
  }
  if (body.conclusion !== undefined) {
    if (!CONCLUSIONS.includes(String(body.conclusion))) invalid('conclusion', `conclusion must be one of ${CONCLUSIONS.join(', ')}`);
    else fields.conclusion = String(body.conclusion);
  }
  if ((fields.status === 'completed' || fields.completedAt) && !fields.conclusion) {
    errors.push({ resource: 'CheckRun', field: 'conclusion', code: 'missing_field', message: 'conclusion is required when status is completed or completed_at is set' });
  }
  if (body.output !== undefined) {
    const output = body.output as Record<string, unknown>;
    if (!output || typeof output !== 'object') invalid('output', 'output must be an object');
    else {
      if (typeof output.title !== 'string') errors.push({ resource: 'CheckRun', field: 'output.title', code: 'missing_field', message: 'output.title is required' });
      if (typeof output.summary !== 'string') errors.push({ resource: 'CheckRun', field: 'output.summary', code: 'missing_field', message: 'output.summary is required' });
      if (output.text !== undefined && typeof output.text !== 'string') invalid('output.text', 'output.text must be a string');
      for (const field of ['summary', 'text'] as const) {
        const tooLong = typeof output[field] === 'string' ? checkOutputTooLong(field, output[field]) : undefined;
        if (tooLong) errors.push(tooLong);
      }
      const annotations = output.annotations;
      if (annotations !== undefined) {
        if (!Array.isArray(annotations)) invalid('output.annotations', 'output.annotations must be an array');
        else if (annotations.length > LIMITS.annotations) invalid('output.annotations', `at most ${LIMITS.annotations} annotations per request`);
        else {
          annotations.forEach((a: Record<string, unknown>, i) => {
            for (const key of ['path', 'start_line', 'end_line', 'annotation_level', 'message']) {
              if (a?.[key] === undefined) errors.push({ resource: 'CheckRun', field: `output.annotations[${i}].${key}`, code: 'missing_field' });
            }
            if (a && !['notice', 'warning', 'failure'].includes(String(a.annotation_level))) invalid(`output.annotations[${i}].annotation_level`, 'annotation_level must be notice, warning or failure');
          });
          if (annotations.some((a: Record<string, unknown>) => a && annotationBreaksLimits(a))) errors.push(invalidAnnotations());
        }
      }
      fields.output = {
        title: typeof output.title === 'string' ? output.title : null, summary: typeof output.summary === 'string' ? output.summary : null,
        text: typeof output.text === 'string' ? output.text : null, annotationsCount: 0,
      };
      fields.annotationsAdded = Array.isArray(annotations) ? annotations.length : 0;
    }
  }
  if (body.actions !== undefined) {
    if (!Array.isArray(body.actions)) invalid('actions', 'actions must be an array');
    else {
      if (body.actions.length > LIMITS.actions) invalid('actions', `at most ${LIMITS.actions} actions are allowed`);
      body.actions.forEach((a: Record<string, unknown>, i) => {
        for (const key of ['label', 'description', 'identifier'] as const) {
          const value = a?.[key];
          if (typeof value !== 'string' || value === '') errors.push({ resource: 'CheckRun', field: `actions[${i}].${key}`, code: 'missing_field' });
          else if (value.length > LIMITS[key]) invalid(`actions[${i}].${key}`, `${key} is longer than ${LIMITS[key]} characters`);
        }
      });
      fields.actions = (body.actions as CheckRunAction[]).map(({ label, description, identifier }) => ({ label, description, identifier }));
    }
  }
  if (errors.length) throw validationFailed(errors);
  // A conclusion completes the run, as on GitHub.
  if (fields.conclusion) {
    fields.status = 'completed';
    fields.completedAt ??= timestamp();
  }
  return fields;
}

function findRun(ctx: RestContext): CheckRun {
  const run = ctx.state.checkRuns.get(Number(ctx.params.check_run_id));
  if (!run || run.repoId !== ctx.repo.id) throw notFound();
  return run;
}

export const registerChecks: RestRegistrar = (add) => {
  add('POST', '/repos/{owner}/{repo}/check-runs', {
    auth: 'token', permission: ['checks', 'write'],
    handler: (ctx) => {
      const appId = callerAppId(ctx);
      if (appId === null) throw forbiddenForIntegration();
      const fields = readCheckRunBody(ctx.body, true);
      const commit = ctx.state.resolveRef(ctx.repo, fields.headSha as string);
      if (!commit || commit.sha !== fields.headSha) throw validationFailed([{ resource: 'CheckRun', field: 'head_sha', code: 'invalid', message: `No commit found for SHA: ${fields.headSha}` }]);
      const status = fields.status ?? 'queued';
      const run = ctx.state.createCheckRun(ctx.repo, appId, {
        name: fields.name as string, headSha: commit.sha, status, conclusion: fields.conclusion ?? null,
        detailsUrl: fields.detailsUrl ?? null, externalId: fields.externalId ?? null,
        startedAt: fields.startedAt ?? timestamp(), completedAt: status === 'completed' ? fields.completedAt ?? timestamp() : null,
        output: { ...(fields.output ?? { title: null, summary: null, text: null }), annotationsCount: fields.annotationsAdded ?? 0 },
        actions: fields.actions ?? [],
      });
      return { status: 201, body: checkRunJson(run, ctx.repo, ctx.state, ctx.urls) };
    },
  });

  add('PATCH', '/repos/{owner}/{repo}/check-runs/{check_run_id}', {
    auth: 'token', permission: ['checks', 'write'],
    handler: (ctx) => {
      const run = findRun(ctx);
      // Only the App that created a check run may change it.
      if (callerAppId(ctx) !== run.appId) throw forbiddenForIntegration();
      const { annotationsAdded, output, headSha: _ignored, ...fields } = readCheckRunBody(ctx.body, false);
      Object.assign(run, fields);
      if (output) run.output = { ...output, annotationsCount: run.output.annotationsCount + (annotationsAdded ?? 0) };
      if (fields.status && fields.status !== 'completed') Object.assign(run, { conclusion: null, completedAt: null });
      run.updatedAt = timestamp();
      return { status: 200, body: checkRunJson(run, ctx.repo, ctx.state, ctx.urls) };
    },
  });

  add('GET', '/repos/{owner}/{repo}/check-runs/{check_run_id}', {
    auth: 'token', permission: ['checks', 'read'],
    handler: (ctx) => ({ status: 200, body: checkRunJson(findRun(ctx), ctx.repo, ctx.state, ctx.urls) }),
  });

  add('GET', '/repos/{owner}/{repo}/commits/{ref}/check-runs', {
    auth: 'token', permission: ['checks', 'read'],
    handler: (ctx) => {
      const commit = ctx.state.resolveRef(ctx.repo, ctx.params.ref);
      if (!commit) throw validationFailed([{ resource: 'Commit', field: 'ref', code: 'invalid', message: `No commit found for SHA: ${ctx.params.ref}` }], `No commit found for SHA: ${ctx.params.ref}`);
      const q = ctx.url.searchParams;
      let runs = ctx.state.checkRunsFor(ctx.repo, commit.sha)
        .filter((r) => !q.get('check_name') || r.name === q.get('check_name'))
        .filter((r) => !q.get('status') || r.status === q.get('status'))
        .filter((r) => !q.get('app_id') || r.appId === Number(q.get('app_id')));
      if ((q.get('filter') ?? 'latest') === 'latest') {
        // GitHub's docs: `latest` filters check runs "by their completed_at timestamp"; one still running counts as the latest.
        const newest = [...runs].sort((a, b) => (b.completedAt ?? '\uffff').localeCompare(a.completedAt ?? '\uffff') || b.id - a.id);
        const seen = new Set<string>();
        runs = newest.filter((r) => !seen.has(`${r.appId}:${r.name}`) && Boolean(seen.add(`${r.appId}:${r.name}`)));
      }
      const { page, headers } = paginate(runs, ctx.url);
      return { status: 200, headers, body: { total_count: runs.length, check_runs: page.map((r) => checkRunJson(r, ctx.repo, ctx.state, ctx.urls)) } };
    },
  });
};
