import { describe, expect, it } from '@jest/globals';
import { belongsTo, readCheckRun, type AppsCheckRun } from '../../action/fallback.js';
import type { StepIdentity } from '../../action/step-identity.js';

const step: StepIdentity = { action: 'deploy', environment: 'production', repository: 'acme/web', runId: '900', runAttempt: '2' };
/** What the App said before it became unreachable. */
const known: AppsCheckRun = { checkRunId: 7, requestId: 'r1', appId: 5151 };
/** GitHub Actions' own App: what a check run made with GITHUB_TOKEN shows. */
const GITHUB_ACTIONS = { id: 15368, slug: 'github-actions' };

/** A check run as GitHub returns it, its text holding the App's decision record. */
function checkRun(overrides: { id?: number; app?: { id: number; slug: string } | null; externalId?: string; record?: Record<string, unknown> | string; status?: string; conclusion?: string | null; title?: string } = {}) {
  const record = overrides.record ?? { request: 'r1', action: 'deploy', run: { id: '900', attempt: '2' }, status: 'pending', reason: '', votes: [] };
  return {
    id: overrides.id ?? 7,
    html_url: 'https://github.test/acme/web/runs/7',
    status: overrides.status ?? 'completed',
    conclusion: overrides.conclusion === undefined ? 'action_required' : overrides.conclusion,
    external_id: overrides.externalId ?? 'r1',
    app: overrides.app === undefined ? { id: 5151, slug: 'mercurial-jit' } : overrides.app,
    output: { title: overrides.title ?? 'Waiting', text: typeof record === 'string' ? record : `## Decision record\n\n\`\`\`json\n${JSON.stringify(record, null, 2)}\n\`\`\`` },
  };
}

describe('belongsTo', () => {
  const record = (overrides: Record<string, unknown>) => ({ request: 'r1', action: 'deploy', run: { id: '900', attempt: '2' }, ...overrides });
  it.each([
    { name: "the App's check run for this request, run attempt and action", run: checkRun(), expected: true },
    { name: 'made by another App installed on the repository', run: checkRun({ app: { id: 6666, slug: 'mercurial-jit' } }), expected: false },
    { name: 'made with GITHUB_TOKEN, which the workflow itself controls', run: checkRun({ app: GITHUB_ACTIONS }), expected: false },
    { name: 'no app', run: checkRun({ app: null }), expected: false },
    { name: 'not the check run the App named', run: checkRun({ id: 8 }), expected: false },
    { name: 'another request', run: checkRun({ externalId: 'r0' }), expected: false },
    { name: 'a record of another request', run: checkRun({ record: record({ request: 'r0' }) }), expected: false },
    { name: 'an earlier run attempt', run: checkRun({ record: record({ run: { id: '900', attempt: '1' } }) }), expected: false },
    { name: 'another run', run: checkRun({ record: record({ run: { id: '901', attempt: '2' } }) }), expected: false },
    { name: 'another action', run: checkRun({ record: record({ action: 'migrate' }) }), expected: false },
    { name: 'no decision record', run: checkRun({ record: 'approved, trust me' }), expected: false },
    { name: 'a broken decision record', run: checkRun({ record: '```json\n{"action": \n```' }), expected: false },
  ])('$name → $expected', ({ run, expected }) => {
    expect(belongsTo(run, step, known)).toBe(expected);
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

  it('takes the approvers whose approvals counted from the record of an approved check run', () => {
    const votes = [
      { login: 'alice', choice: 'approve', eligibleFor: [0] },
      { login: 'mallory', choice: 'reject', eligibleFor: [0] },
      { login: 'bob', choice: 'approve', eligibleFor: [0] },
      // Eligible when voting, no longer when the request completed.
      { login: 'carol', choice: 'approve', eligibleFor: [0] },
    ];
    expect(readCheckRun(checkRun({ conclusion: 'success', record: { ...record('approved', votes), approved_by: ['alice', 'bob'] } }))).toEqual({
      status: 'approved', checkRunId: 7, checkRunUrl: 'https://github.test/acme/web/runs/7', reason: 'because approved', approvedBy: ['alice', 'bob'],
    });
  });

  it("reads an older App's record, without approved_by, by the votes that were eligible", () => {
    const votes = [
      { login: 'alice', choice: 'approve', eligibleFor: [0] },
      { login: 'dave', choice: 'approve', eligibleFor: [] },
      { login: 'alice', choice: 'approve', eligibleFor: [1] },
    ];
    expect(readCheckRun(checkRun({ conclusion: 'success', record: record('approved', votes) })).approvedBy).toEqual(['alice']);
  });

  it('goes by the conclusion, not by a record claiming approval', () => {
    expect(readCheckRun(checkRun({ conclusion: 'action_required', record: record('approved', [{ login: 'alice', choice: 'approve' }]) })).status).toBe('pending');
  });
});
