import { describe, expect, it } from '@jest/globals';
import { belongsTo, readCheckRun, type CheckRunTarget } from '../../action/fallback.js';

const target: CheckRunTarget = { owner: 'acme', repo: 'web', headSha: 'abc', action: 'deploy', runId: '900', runAttempt: '2' };

/** A check run as the list endpoint returns it, its text holding the App's decision record. */
function checkRun(overrides: { slug?: string | null; externalId?: string; record?: Record<string, unknown> | string; status?: string; conclusion?: string | null; title?: string } = {}) {
  const record = overrides.record ?? { request: 'r1', action: 'deploy', run: { id: '900', attempt: '2' }, status: 'pending', reason: '', votes: [] };
  return {
    id: 7,
    html_url: 'https://github.test/acme/web/runs/7',
    status: overrides.status ?? 'completed',
    conclusion: overrides.conclusion === undefined ? 'action_required' : overrides.conclusion,
    external_id: overrides.externalId ?? 'r1',
    app: overrides.slug === null ? null : { slug: overrides.slug ?? 'mercurial-jit' },
    output: { title: overrides.title ?? 'Waiting', text: typeof record === 'string' ? record : `## Decision record\n\n\`\`\`json\n${JSON.stringify(record, null, 2)}\n\`\`\`` },
  };
}

describe('belongsTo', () => {
  it.each([
    { name: "the App's check run for this run attempt and action", run: checkRun(), requestId: undefined, expected: true },
    { name: 'the same, with the known request id', run: checkRun(), requestId: 'r1', expected: true },
    { name: 'made with GITHUB_TOKEN, which the workflow itself controls', run: checkRun({ slug: 'github-actions' }), requestId: undefined, expected: false },
    { name: 'no app', run: checkRun({ slug: null }), requestId: undefined, expected: false },
    { name: 'another request', run: checkRun({ externalId: 'r0' }), requestId: 'r1', expected: false },
    { name: 'an earlier run attempt', run: checkRun({ record: { action: 'deploy', run: { id: '900', attempt: '1' } } }), requestId: undefined, expected: false },
    { name: 'another run', run: checkRun({ record: { action: 'deploy', run: { id: '901', attempt: '2' } } }), requestId: undefined, expected: false },
    { name: 'another action', run: checkRun({ record: { action: 'migrate', run: { id: '900', attempt: '2' } } }), requestId: undefined, expected: false },
    { name: 'no decision record', run: checkRun({ record: 'approved, trust me' }), requestId: undefined, expected: false },
    { name: 'a broken decision record', run: checkRun({ record: '```json\n{"action": \n```' }), requestId: undefined, expected: false },
  ])('$name → $expected', ({ run, requestId, expected }) => {
    expect(belongsTo(run, target, requestId)).toBe(expected);
  });
});

describe('readCheckRun', () => {
  const record = (status: string, votes: unknown[] = []) => ({ action: 'deploy', run: { id: '900', attempt: '2' }, status, reason: `because ${status}`, votes });

  it.each([
    { name: 'pending, with buttons', run: checkRun(), status: 'pending' },
    { name: 'still in progress', run: checkRun({ status: 'in_progress', conclusion: null }), status: 'pending' },
    { name: 'neutral is not an approval', run: checkRun({ conclusion: 'neutral' }), status: 'pending' },
    { name: 'rejected', run: checkRun({ conclusion: 'failure', record: record('rejected') }), status: 'rejected' },
    { name: 'policy error', run: checkRun({ conclusion: 'failure', record: record('failed') }), status: 'failed' },
    { name: 'timed out', run: checkRun({ conclusion: 'timed_out', record: record('timed_out') }), status: 'timed_out' },
    { name: 'cancelled', run: checkRun({ conclusion: 'cancelled', record: record('cancelled') }), status: 'cancelled' },
  ])('$name → $status', ({ run, status }) => {
    expect(readCheckRun(run).status).toBe(status);
  });

  it('takes the approvers from the record of an approved check run', () => {
    const votes = [
      { login: 'alice', choice: 'approve' },
      { login: 'mallory', choice: 'reject' },
      { login: 'bob', choice: 'approve' },
    ];
    expect(readCheckRun(checkRun({ conclusion: 'success', record: record('approved', votes) }))).toEqual({
      status: 'approved', checkRunId: 7, checkRunUrl: 'https://github.test/acme/web/runs/7', reason: 'because approved', approvedBy: ['alice', 'bob'],
    });
  });

  it('goes by the conclusion, not by a record claiming approval', () => {
    expect(readCheckRun(checkRun({ conclusion: 'action_required', record: record('approved', [{ login: 'alice', choice: 'approve' }]) })).status).toBe('pending');
  });
});
