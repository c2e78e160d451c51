/** A standard world for the double's own tests: one App installed on acme/widgets, people with every permission level. */
import { generateAppKeyPair, type AppKeyPair } from './keys.js';
import type { Seed } from './types.js';

export const APP_ID = 4242;
export const OTHER_APP_ID = 4343;
export const INSTALLATION_ID = 777;
export const REPO = 'acme/widgets';

/** Generated once per test file: 2048-bit RSA generation is not free. */
export const appKeys: AppKeyPair = generateAppKeyPair();
export const otherAppKeys: AppKeyPair = generateAppKeyPair();

/** Where the App's OAuth web flow may send users back. */
export const OAUTH_CALLBACK = 'https://honest.example.test/auth/callback';

export function standardSeed(): Seed {
  const manyFiles = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`src/file${i}.ts`, `export const n = ${i};\n`]));
  return {
    users: [
      { login: 'alice', name: 'Alice Admin', email: 'alice@example.com' }, { login: 'bob' }, { login: 'carol' }, { login: 'dave' },
      { login: 'erin' }, { login: 'renovate[bot]', type: 'Bot' },
    ],
    repos: [
      {
        owner: 'acme', name: 'widgets', defaultBranch: 'main',
        branches: {
          main: { '.github/jit-approval.yml': 'version: 1\n', CODEOWNERS: '* @acme/team-leads\n', 'infra/main.tf': 'resource "x" "y" {}\n' },
          feature: { ...manyFiles, 'infra/main.tf': 'resource "x" "z" {}\n' },
        },
        collaborators: { alice: 'admin', bob: 'write', carol: 'read', 'renovate[bot]': 'write' },
        pulls: [{ number: 1, title: 'Add files', head: 'feature', user: 'carol', body: 'Please review' }],
        issues: [{ number: 2, title: 'Tracking', user: 'alice' }],
      },
      { owner: 'acme', name: 'secret', branches: { main: { 'x.txt': 'x\n' } } },
    ],
    teams: [
      { org: 'acme', slug: 'team-leads', members: ['dave'], maintainers: ['alice'], repos: { widgets: 'maintain' } },
      { org: 'acme', slug: 'security', members: ['erin'] },
    ],
    apps: [
      { id: APP_ID, slug: 'jit-approval', name: 'JIT Approval', publicKey: appKeys.publicKey, callbackUrls: [OAUTH_CALLBACK] },
      { id: OTHER_APP_ID, slug: 'other-app', publicKey: otherAppKeys.publicKey },
    ],
    installations: [
      { id: INSTALLATION_ID, appId: APP_ID, account: 'acme', repositories: ['widgets'] },
      { id: 778, appId: OTHER_APP_ID, account: 'acme' },
    ],
  };
}
