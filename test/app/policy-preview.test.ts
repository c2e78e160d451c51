/**
 * The policy preview, end to end: a pull request that changes the policy or CODEOWNERS gets a
 * `jit: policy` check run with the new file's problems at their lines and the decisions before and
 * after; an invalid policy fails it, so a required check keeps a broken policy out.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually, job, World } from './harness.js';
import { rendered } from './markdown.js';

const REPO = 'acme/preview';
const POLICY = `version: 1
rules:
  - name: production
    if: { environment: production }
    require: { approvals: 1, approvers: [alice] }
  - name: staging
    if: { environment: staging }
    auto_approve: true
`;

interface PolicyCheck {
  name: string;
  head_sha: string;
  conclusion: string;
  output: { title: string; summary: string; annotations_count: number };
}

let world: World;
beforeAll(async () => {
  world = await World.start();
  await world.control.seed({
    repos: [{ owner: 'acme', name: 'preview', branches: { main: { '.github/jit-approval.yml': POLICY, 'src/a.ts': 'export {};\n' } }, collaborators: { alice: 'admin', mallory: 'write' } }],
  });
  // A request the App recorded, which the preview replays on the new policy.
  const { body } = await world.open(job({ repository: REPO, environment: 'staging' }), { action: 'deploy', severity: 'low' });
  expect(body.status).toBe('approved');
}, 60_000);
afterAll(async () => world?.stop());

let branches = 0;
async function openPolicyPull(files: Record<string, string>) {
  const head = `policy-${++branches}`;
  const pull = await world.control.openPull({ repository: REPO, user: 'mallory', title: 'Change the policy', head, files });
  await world.settle();
  return { pull, head };
}

async function policyCheck(sha: string): Promise<PolicyCheck | undefined> {
  const runs = (await world.control.checkRuns(REPO, sha)) as unknown as PolicyCheck[];
  return runs.find((run) => run.name === 'jit: policy');
}

describe('a pull request that changes the policy', () => {
  it('shows the decisions that change, stricter and looser, and succeeds for a valid policy', async () => {
    const looser = POLICY.replace('require: { approvals: 1, approvers: [alice] }', 'require: { approvals: 2, approvers: [alice, bob] }').replace(
      '    if: { environment: staging }\n    auto_approve: true',
      '    if: { environment: staging }\n    require: { approvers: [alice] }',
    );
    const { pull } = await openPolicyPull({ '.github/jit-approval.yml': looser });
    const check = (await policyCheck(pull.head_sha))!;
    expect(check).toMatchObject({ conclusion: 'success', head_sha: pull.head_sha });
    expect(check.output.title).toMatch(/^Valid policy; \d+ decisions change \(\d+ stricter\)$/);
    expect(check.output.summary).toContain('| stricter | `deploy to production, severity low` | 1 from @alice (rule `production`) | 2 from @alice or @bob (rule `production`) |');
    expect(check.output.summary).toContain('| stricter | `deploy to staging, severity low` | no approval needed | 1 from @alice (rule `staging`) |');
    // The recorded staging request, replayed on its own facts.
    expect(check.output.summary).toMatch(/\| stricter \| `request [0-9a-f]{8} \(run \d+\): deploy to staging` \| no approval needed \|/);
  });

  it('shows a freeze added even when it is not on today, so no decision changes yet', async () => {
    const frozen = `${POLICY}freezes:\n  - name: launch\n    time_zone: UTC\n    start: 2099-01-01\n    end: 2099-01-02\n`;
    const { pull } = await openPolicyPull({ '.github/jit-approval.yml': frozen });
    const check = (await policyCheck(pull.head_sha))!;
    expect(check).toMatchObject({ conclusion: 'success', output: { title: 'Valid policy; no decision changes; 1 freeze or deploy window change (1 stricter)' } });
    expect(check.output.summary).toContain('| stricter | freeze `launch` added | — | from 2099-01-01 to 2099-01-02 UTC, mode wait |');
    expect(check.output.summary).toContain('Decisions before and after this change:');
  });

  it('lists a rule changed in a way no situation shows: production waived for every actor', async () => {
    // The recorded request is staging's, and the named situations have no actor: no decision changes.
    const waived = POLICY.replace('    require: { approvals: 1, approvers: [alice] }', '    unless: { actor: "*" }\n    require: { approvals: 1, approvers: [alice] }');
    const { pull } = await openPolicyPull({ '.github/jit-approval.yml': waived });
    const check = (await policyCheck(pull.head_sha))!;
    expect(check).toMatchObject({ conclusion: 'success', output: { title: 'Valid policy; no decision changes; 1 rule change to read (the situations cannot show it)' } });
    expect(check.output.summary).toContain('Rules changed in ways the situations cannot show, as they read facts the situations leave out: read these yourself.');
    expect(check.output.summary).toContain('| `production` changed | `actor` |');
  });

  it('still shows a loosened rule when hundreds of rules the situations cannot judge are added with it', async () => {
    // Each added rule reads `branch`, which no situation states; listed in full, they would pass GitHub's limit.
    const padding = Array.from({ length: 700 }, (_, i) => `  - name: ${`padding-${i}-`.padEnd(100, 'x')}\n    if: { branch: b${i} }\n    require: { approvers: [alice] }\n`).join('');
    const loosened = POLICY.replace('    require: { approvals: 1, approvers: [alice] }', '    auto_approve: true').concat(padding);
    const { pull } = await openPolicyPull({ '.github/jit-approval.yml': loosened });
    const check = (await policyCheck(pull.head_sha))!;
    expect(check).toMatchObject({ conclusion: 'success', head_sha: pull.head_sha });
    expect(check.output.title).toMatch(/looser.*700 rule changes to read/);
    expect(Buffer.byteLength(check.output.summary)).toBeLessThanOrEqual(65_535);
    expect(check.output.summary).toContain('| looser | `deploy to production, severity low` | 1 from @alice (rule `production`) | no approval needed |');
    expect(check.output.summary).toContain('| `padding-0-');
    expect(check.output.summary).toContain('… and 680 more rules to read in the file');
  });

  it('still shows a loosened rule when twenty CODEOWNERS lines GitHub skips quote a thousand wide characters each', async () => {
    // Each warning quotes the owner it cannot read: in full, they and the rules listed above would pass GitHub's limit.
    const codeowners = Array.from({ length: 20 }, (_, i) => `/path-${i}/ @${'漢'.repeat(1200)}!\n`).join('');
    const padding = Array.from({ length: 20 }, (_, i) => `  - name: ${`padding-${i}-`.padEnd(100, 'x')}\n    if: { branch: b${i} }\n    require: { approvers: [alice] }\n`).join('');
    const loosened = POLICY.replace('version: 1\n', 'version: 1\nunmatched: require\n').replace('    require: { approvals: 1, approvers: [alice] }', '    auto_approve: true').concat(padding);
    const { pull } = await openPolicyPull({ '.github/CODEOWNERS': codeowners, '.github/jit-approval.yml': loosened });
    const check = (await policyCheck(pull.head_sha))!;
    expect(check).toMatchObject({ conclusion: 'success', head_sha: pull.head_sha });
    expect(Buffer.byteLength(check.output.summary)).toBeLessThanOrEqual(65_535);
    expect(check.output.summary).toMatch(/- \.github\/CODEOWNERS:20:\d+: CODEOWNERS line skipped.*漢…/);
    expect(check.output.summary).toContain('| looser | `deploy to production, severity low` | 1 from @alice (rule `production`) | no approval needed |');
  });

  it('fails for an invalid policy and shows each problem at its line', async () => {
    const { pull } = await openPolicyPull({ '.github/jit-approval.yml': `${POLICY}  - name: broken\n    require: { approvals: zero }\n` });
    const check = (await policyCheck(pull.head_sha))!;
    expect(check.conclusion).toBe('failure');
    expect(check.output.title).toContain('Invalid policy: .github/jit-approval.yml:10:27: rules[2].require.approvals');
    expect(check.output.annotations_count).toBe(1);
  });

  it('adds the warnings as annotations, more than GitHub takes in one request', async () => {
    const paths = Array.from({ length: 60 }, (_, i) => `"/dir${i}/"`).join(', ');
    const { pull } = await openPolicyPull({ '.github/jit-approval.yml': `${POLICY}  - name: dirs\n    if: { paths: [${paths}] }\n` });
    const check = (await policyCheck(pull.head_sha))!;
    expect(check.conclusion).toBe('success');
    expect(check.output.annotations_count).toBe(60);
    expect(check.output.summary).toContain('**Warnings** (shown at their lines too)');
    expect(check.output.summary).toContain('… and 40 more, at their lines');
  });

  it('shows the CODEOWNERS lines GitHub skips, whose owners are never asked', async () => {
    const { pull } = await openPolicyPull({ '.github/CODEOWNERS': '* @acme/developers\n[Infrastructure] @acme/sre\n/infra/ @acme/sre\n!/infra/legacy/\n' });
    const check = (await policyCheck(pull.head_sha))!;
    expect(check.conclusion).toBe('success');
    expect(check.output.annotations_count).toBe(2);
    expect(check.output.summary).toMatch(/- \.github\/CODEOWNERS:2:1: CODEOWNERS line skipped, as GitHub skips it, so nobody it names is asked as a code owner: /);
    expect(check.output.summary).toMatch(/- \.github\/CODEOWNERS:4:1: CODEOWNERS line skipped/);
  });

  it('previews each new head once, and a fix on the branch turns the check green', async () => {
    const { pull, head } = await openPolicyPull({ '.github/jit-approval.yml': 'version: 2\n' });
    expect((await policyCheck(pull.head_sha))!.conclusion).toBe('failure');
    const fixed = await world.control.pushCommit(REPO, { branch: head, files: { '.github/jit-approval.yml': POLICY.replace('approvals: 1', 'approvals: 2') }, author: 'mallory' });
    await world.settle();
    expect((await policyCheck(fixed.sha))!.conclusion).toBe('success');
    await world.control.redeliver((await world.control.deliveries({ event: 'pull_request' })).at(-1)!.seq);
    await world.settle();
    const runs = (await world.control.checkRuns(REPO, fixed.sha)) as unknown as PolicyCheck[];
    expect(runs.filter((run) => run.name === 'jit: policy')).toHaveLength(1);
  });
});

describe('a pull request that leaves the policy and CODEOWNERS alone', () => {
  it('gets no policy check', async () => {
    const { pull } = await openPolicyPull({ 'src/b.ts': 'export const b = 1;\n' });
    expect(await policyCheck(pull.head_sha)).toBeUndefined();
  });
});

describe('a pull request that changes CODEOWNERS', () => {
  it('is previewed too', async () => {
    const { pull } = await openPolicyPull({ '.github/CODEOWNERS': '* @alice\n' });
    expect((await policyCheck(pull.head_sha))!).toMatchObject({ conclusion: 'success', output: { title: 'Valid policy; no decision changes' } });
  });
});

describe("text from the pull request's own policy", () => {
  // What a pull request author writes into names, values and keys (at most 100 characters each), to pose as the App or ping people.
  const LINK = '` [No decision changes](https://evil.example/l) @acme/secret-team `';
  const IMAGE = '` ![✅ Approved](https://evil.example/i.png) <img src=x> `';
  const FORGED = '\n## ✅ No decision changes\n';
  const yaml = (text: string) => JSON.stringify(text);

  /** The preview's output, as GitHub renders it: the hostile text stays inside code. */
  function expectContained(check: PolicyCheck) {
    const md = rendered(check.output.summary);
    expect(md.prose).not.toMatch(/evil\.example|@acme\/secret-team|<img|No decision changes|Approved/);
    expect(md.links).toEqual([]);
    expect(md.images).toEqual([]);
    expect(md.html).toEqual([]);
    expect(md.headings).toEqual([]);
    expect(check.output.title).not.toMatch(/[\r\n\u2028\u2029]/);
  }

  it('keeps rule, freeze and scope names, window messages and warnings inside code in a valid policy', async () => {
    const hostile = POLICY.replace('name: production', `name: ${yaml(`production${LINK}x`)}`)
      .replace('require: { approvals: 1, approvers: [alice] }', 'require: { approvals: 2, approvers: [alice, bob] }')
      .concat(
        `  - name: ${yaml(`paths${IMAGE}`)}\n    if: { branch: ${yaml(`main${LINK}`)}, paths: [${yaml(`/dir${IMAGE}/`)}] }\n    auto_approve: true\n`,
        // In force now: the decisions in its scope are held, and say why in its message.
        `freezes:\n  - name: ${yaml(`launch${IMAGE}`)}\n    time_zone: UTC\n    start: 2000-01-01\n    end: 2999-01-01\n`,
        `    message: ${yaml(`${LINK} ${IMAGE} ${FORGED}`)}\n    if: { environment: [${yaml(`prod${LINK}`)}, production] }\n`,
      );
    const { pull } = await openPolicyPull({ '.github/jit-approval.yml': hostile });
    const check = (await policyCheck(pull.head_sha))!;
    expect(check.conclusion).toBe('success');
    // The names are there, as code.
    expect(rendered(check.output.summary).code).toContain(`production${LINK}x`);
    expect(rendered(check.output.summary).code).toContain(`launch${IMAGE}`);
    expectContained(check);
  });

  it('keeps the problems of an invalid policy inside code, keys and values alike', async () => {
    const invalid = `${POLICY}  - name: broken\n    ${yaml(`key${IMAGE}${FORGED}`)}: 1\n    require: { approvals: ${yaml(`${LINK}${FORGED}`)} }\n`;
    const { pull } = await openPolicyPull({ '.github/jit-approval.yml': invalid });
    const check = (await policyCheck(pull.head_sha))!;
    expect(check.conclusion).toBe('failure');
    expectContained(check);
  });
});

describe("the policy before the pull request's change", () => {
  it("is the default branch's, never a tag's that has its name", async () => {
    // Whoever may push may tag: a tag named `main` on their branch's loosened policy would make
    // "before" read like "after" (a bare name is a tag before a branch), and the loosening vanish.
    const looser = POLICY.replace('    require: { approvals: 1, approvers: [alice] }', '    auto_approve: true');
    const { pull: decoy } = await openPolicyPull({ '.github/jit-approval.yml': looser });
    await world.control.createTag(REPO, { tag: 'main', sha: decoy.head_sha });
    const { pull } = await openPolicyPull({ '.github/jit-approval.yml': `${looser}# the same, once more\n` });
    const check = (await policyCheck(pull.head_sha))!;
    expect(check).toMatchObject({ conclusion: 'success' });
    expect(check.output.summary).toContain('| looser | `deploy to production, severity low` | 1 from @alice (rule `production`) | no approval needed |');
  });
});

describe('a repository renamed while its preview waits', () => {
  it("shows the preview under the new name, never in the repository that took the old one, which is shown nothing of it", async () => {
    await world.control.seed({ repos: [{ owner: 'acme', name: 'preview-moved', branches: { main: { '.github/jit-approval.yml': POLICY, 'src/a.ts': 'export {};\n' } }, collaborators: { alice: 'admin', mallory: 'write' } }] });
    const { body } = await world.open(job({ repository: 'acme/preview-moved', environment: 'staging' }), { action: 'deploy', severity: 'low' });
    expect(body.status).toBe('approved');
    // The preview's look for a check run it made already is slow: the rename, and the old name's new holder, come meanwhile.
    const lookup = '/repos/{owner}/{repo}/commits/{ref}/check-runs';
    const looks = async () => (await world.control.requestCounts())[`GET ${lookup}`] ?? 0;
    const looked = await looks();
    await world.control.latency({ route: lookup, method: 'GET', ms: 3000, times: 1 });
    const looser = POLICY.replace('    require: { approvals: 1, approvers: [alice] }', '    auto_approve: true');
    const pull = await world.control.openPull({ repository: 'acme/preview-moved', user: 'mallory', title: 'Change the policy', head: 'moved-policy', files: { '.github/jit-approval.yml': looser } });
    await eventually(looks, (n) => n > looked, 30_000);
    await world.control.rename('acme/preview-moved', 'preview-moved-2', 'alice');
    await world.control.deliveriesIdle();
    // mallory, who may create repositories in the org, takes the old name and pushes the original's history.
    const { state } = world.github.double;
    const source = state.repoByFullName('acme/preview-moved-2');
    const taken = state.addRepo({ owner: 'acme', name: 'preview-moved', collaborators: { mallory: 'admin' } });
    for (const [sha, commit] of source.commits) taken.commits.set(sha, commit);
    for (const [branch, head] of source.branches) taken.branches.set(branch, head);
    await world.settle();
    expect(((await world.control.checkRuns('acme/preview-moved')) as unknown as PolicyCheck[]).map((run) => [run.name, run.output.summary])).toEqual([]);
    const moved = await eventually(
      async () => ((await world.control.checkRuns('acme/preview-moved-2', pull.head_sha)) as unknown as PolicyCheck[]).find((run) => run.name === 'jit: policy'),
      (found) => found !== undefined,
      30_000,
    );
    expect(moved).toMatchObject({ conclusion: 'success' });
    expect(await world.control.checkRuns('acme/preview-moved')).toEqual([]);
  }, 60_000);
});
