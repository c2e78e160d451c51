/**
 * The project's own workflows: CI runs `.ci/run` with PostgreSQL on GitHub's runners, and a release
 * tag publishes a checked commit and moves the major tag. actionlint checks both; the release steps'
 * scripts are run here against a scratch CHANGELOG and a scratch git remote.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { exampleWorkflowFiles, formatProblem, lintWorkflows, projectWorkflowFiles } from './lint-workflows.js';

interface Step { name?: string; uses?: string; run?: string; if?: string; env?: Record<string, string> }
interface Job { 'runs-on': string; needs?: string; permissions?: Record<string, string>; services?: Record<string, { image: string; env?: Record<string, string>; ports?: string[] }>; steps: Step[] }
interface Workflow { on: Record<string, { tags?: string[] } | null>; permissions?: Record<string, string>; jobs: Record<string, Job> }

const files = projectWorkflowFiles().map((file) => ({ name: basename(file), text: readFileSync(file, 'utf8') }));
const workflow = (name: string) => parse(files.find((file) => file.name === name)!.text) as Workflow;

function withScratch<T>(use: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'jit-workflows-'));
  try {
    return use(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs a step's script as the runner would (bash -e), in `cwd`, with the step's variables set by hand. */
function runStep(step: Step, cwd: string, env: Record<string, string>) {
  return spawnSync('bash', ['-e', '-c', step.run!], { cwd, env: { PATH: process.env.PATH, HOME: cwd, ...env }, encoding: 'utf8' });
}

describe("the project's workflows", () => {
  it('are CI and release, and pass actionlint', async () => {
    expect(files.map((file) => file.name)).toEqual(['ci.yml', 'release.yml']);
    const problems = await lintWorkflows(files.map(({ name, text }) => ({ path: name, text })));
    expect(problems.map(formatProblem)).toEqual([]);
  });

  it('are linted by `npm run lint:workflows` along with the examples', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'test/docs/lint-workflows.ts'], { encoding: 'utf8' });
    expect(out).toBe(`actionlint: ${exampleWorkflowFiles().length + files.length} workflows, 0 problems\n`);
  });

  it.each([['ci.yml', 'check'], ['release.yml', 'check']])('%s runs .ci/run on ubuntu-latest with PostgreSQL where the store tests look for it', (name, job) => {
    const { 'runs-on': runsOn, services, steps } = workflow(name).jobs[job]!;
    expect(runsOn).toBe('ubuntu-latest');
    expect(steps.at(-1)!.run).toBe('bash .ci/run');
    expect(services?.postgres).toMatchObject({ image: expect.stringMatching(/^postgres:/), env: { POSTGRES_HOST_AUTH_METHOD: 'trust', POSTGRES_DB: 'test' }, ports: ['5432:5432'] });
  });

  it('release: a vX.Y.Z tag publishes only after the checks, and only the publishing job may write', () => {
    const release = workflow('release.yml');
    expect(release.on).toEqual({ push: { tags: ['v*.*.*'] } });
    expect(release.permissions).toEqual({ contents: 'read' });
    expect(release.jobs.publish).toMatchObject({ needs: 'check', permissions: { contents: 'write' } });
    expect(release.jobs.check!.permissions).toBeUndefined();
  });

  describe('release notes', () => {
    const step = workflow('release.yml').jobs.publish!.steps.find((s) => s.name === 'Release notes from CHANGELOG.md')!;
    const changelog = '# Changelog\n\n## [Unreleased]\n\n- next\n\n## [1.2.0] - 2026-12-01\n\n### Added\n\n- windows\n\n## [1.1.0] - 2026-11-01\n\n- old\n';

    it("are the tag's section of CHANGELOG.md, and nothing else", () => {
      withScratch((dir) => {
        writeFileSync(join(dir, 'CHANGELOG.md'), changelog);
        const result = runStep(step, dir, { TAG: 'v1.2.0', RUNNER_TEMP: dir });
        expect(result.status).toBe(0);
        expect(readFileSync(join(dir, 'notes.md'), 'utf8')).toBe('\n### Added\n\n- windows\n\n');
      });
    });

    it('stop the release when the CHANGELOG has no section for the version', () => {
      withScratch((dir) => {
        writeFileSync(join(dir, 'CHANGELOG.md'), changelog);
        const result = runStep(step, dir, { TAG: 'v1.3.0', RUNNER_TEMP: dir });
        expect(result.status).toBe(1);
        expect(result.stdout).toContain("::error file=CHANGELOG.md::no '## [1.3.0]' section");
      });
    });

    it('has a section for Unreleased changes in this repository', () => {
      expect(readFileSync('CHANGELOG.md', 'utf8')).toMatch(/^## \[Unreleased\]\n\n### Added\n\n- /m);
    });
  });

  describe('the major tag', () => {
    const step = workflow('release.yml').jobs.publish!.steps.find((s) => s.name === 'Move the major tag')!;

    /** A scratch repository whose remote has `v1` on an older commit; returns the remote's v1 after the step ran for `tag`. */
    function releaseWith(tag: string): { status: number | null; released: string; old: string; v1: string; stdout: string } {
      return withScratch((dir) => {
        const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.test', ...args], { cwd: join(dir, 'work'), encoding: 'utf8' }).trim();
        execFileSync('git', ['init', '--quiet', '--bare', join(dir, 'origin.git')]);
        execFileSync('git', ['init', '--quiet', join(dir, 'work')]);
        git('remote', 'add', 'origin', join(dir, 'origin.git'));
        git('commit', '--quiet', '--allow-empty', '-m', 'v1.0.0');
        const old = git('rev-parse', 'HEAD');
        git('tag', 'v1');
        git('push', '--quiet', 'origin', 'HEAD:refs/heads/main', 'refs/tags/v1');
        git('commit', '--quiet', '--allow-empty', '-m', tag);
        const released = git('rev-parse', 'HEAD');
        const result = runStep(step, join(dir, 'work'), { TAG: tag, GITHUB_SHA: released });
        expect(result.stderr).not.toContain('fatal');
        const v1 = execFileSync('git', ['rev-parse', 'refs/tags/v1'], { cwd: join(dir, 'origin.git'), encoding: 'utf8' }).trim();
        return { status: result.status, released, old, v1, stdout: result.stdout };
      });
    }

    it('moves to the released commit, from where it pointed before', () => {
      const { status, released, old, v1 } = releaseWith('v1.1.0');
      expect(status).toBe(0);
      expect(released).not.toBe(old);
      expect(v1).toBe(released);
    });

    it('is left alone by a prerelease', () => {
      const { status, old, v1, stdout } = releaseWith('v1.2.0-rc.1');
      expect(status).toBe(0);
      expect(v1).toBe(old);
      expect(stdout).toContain('v1.2.0-rc.1 is a prerelease: v1 stays where it is');
    });
  });
});
