/**
 * A deterministic 500-rule policy for the generated monorepo of generate.ts: rules on its package
 * directories, environments, branches, actions and severities, with auto-approvals and escalations.
 */
import { stringify } from 'yaml';
import type { Monorepo } from './generate.js';

const EXTENSIONS = ['ts', 'tsx', 'go', 'proto', 'tf', 'sql', 'yml', 'json'];
const INNER = ['migrations', 'api', 'server', 'generated', 'docs', 'fixtures'];

/** The package directories the changed paths fall in (`apps/foo-bar-12`), in first-seen order. */
function packageDirs(paths: readonly string[]): string[] {
  const dirs = new Set<string>();
  for (const path of paths) {
    const parts = path.split('/');
    const depth = parts[0] === 'x-pack' || parts[0] === 'src' ? 3 : 2;
    if (parts.length > depth) dirs.add(parts.slice(0, depth).join('/'));
  }
  return [...dirs];
}

export function generatePolicyYaml(monorepo: Monorepo, ruleCount = 500): string {
  const dirs = packageDirs(monorepo.paths);
  const team = (i: number) => monorepo.teams[i % monorepo.teams.length];
  const rules = Array.from({ length: ruleCount }, (_, i) => {
    const dir = dirs[(i * 7) % dirs.length];
    const name = `rule-${i}-${dir.replaceAll('/', '-')}`;
    switch (i % 6) {
      case 0:
        return { name, if: { paths: [`${dir}/**`] }, require: { approvers: ['codeowners', team(i)] } };
      case 1:
        return {
          name,
          if: { environment: ['production', 'prod-*'], paths: [`${dir}/**/*.${EXTENSIONS[i % EXTENSIONS.length]}`, `${dir}/${INNER[i % INNER.length]}/**`] },
          require: { approvals: 2, approvers: ['codeowners', team(i + 1)] },
          escalate: [
            { if: { severity: { at_least: 'high' } }, require: { approvals: 3, approvers: [team(i + 2)] }, notify: ['security'] },
            { after: '30m', also_eligible: [team(i + 3)], notify: ['pager'] },
          ],
          notify: ['slack-deploys'],
        };
      case 2:
        return { name, if: { environment: [`prod-${i}`], branch: ['main', 'release/**'] }, require: { approvers: [team(i)] }, timeout: '2h' };
      case 3:
        return { name, if: { action: [`deploy-${i}`, 'deploy'], severity: { at_least: 'critical' }, event: ['push', 'workflow_dispatch'] }, require: { approvers: ['role:admin'] } };
      case 4:
        return { name, if: { paths: [`**/${INNER[i % INNER.length]}/**`], target_branch: ['main'] }, require: { approvers: ['codeowners'] } };
      default:
        return { name, if: { paths: [`${dir}/docs/**`, `${dir}/**/*.md`] }, auto_approve: true };
    }
  });
  return stringify({
    version: 1,
    severities: ['low', 'medium', 'high', 'critical'],
    defaults: { approvals: 1, approvers: ['codeowners'], timeout: '1h' },
    unmatched: 'approve',
    rules,
  });
}
