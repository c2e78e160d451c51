/** Fixture files for the CLI tests, written to a fresh temporary directory per test file. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const POLICY = `version: 1
defaults: { approvals: 1, approvers: [codeowners], timeout: 1h }
unmatched: approve
rules:
  - name: production
    if:
      environment: [production, "prod-*"]
      branch: [main, "release/**"]
    unless: { only_paths: ["docs/**"] }
    require: { approvals: 1, approvers: [codeowners, "@acme/team-leads"] }
    escalate:
      - if: { severity: critical }
        require: { approvals: 2, approvers: ["@acme/security"] }
      - after: 30m
        notify: [pager]
        also_eligible: ["@acme/sre-oncall"]
    notify: [slack-deploys]
    timeout: 2h
  - name: docs
    if: { only_paths: ["docs/**"] }
    auto_approve: true
  - name: production-elsewhere
    if: { environment: [production, "prod-*"] }
    unless: { branch: [main, "release/**"] }
    require: { approvals: 1, approvers: ["@acme/release-managers"] }
`;

export const CODEOWNERS = `* @acme/platform
/infra/ @acme/sre @carol
docs/ @dave
/vendor/
`;

export function makeWorkspace(files: Record<string, string>): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'mercurial-jit-cli-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
