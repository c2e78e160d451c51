/**
 * `owners` side by side with the `codeowners` npm package: the same CODEOWNERS and the same paths.
 * That package costs milliseconds per path, so it is timed on an evenly spaced sample of the paths
 * and the two are compared per path; ours is timed on every path.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Codeowners from 'codeowners';
import { parseCodeowners } from '../policies/codeowners.js';
import { generateMonorepo } from './generate.js';
import type { BenchReport } from './report.js';

/** CI clones the repository beside shared/, so the fixtures are found relative to the repository root. */
const KIBANA_FIXTURES = fileURLToPath(new URL('../../shared/fixtures/codeowners/', import.meta.url));

const NPM_SAMPLE = 400;
const RUNS = 5;

export interface OwnersFigures {
  input: string;
  rules: number;
  paths: number;
  /** Parsing and indexing the file, once. */
  parseMs: number;
  /** All paths, median of RUNS runs. */
  oursTotalMs: number;
  oursPerPathUs: number;
  npmSample: number;
  npmPerPathUs: number;
  /** npm per path / ours per path. */
  speedup: number;
  /** Paths of the sample where both give the same owners. */
  agreeing: number;
}

export interface OwnersReport extends BenchReport {
  figures: OwnersFigures[];
}

interface Input {
  name: string;
  codeowners: string;
  paths: string[];
}

export async function measureOwners(): Promise<OwnersReport> {
  const generated = generateMonorepo({ rules: 5000, paths: 10000 });
  const inputs: Input[] = [{ name: 'generated monorepo', codeowners: generated.codeowners, paths: generated.paths }];
  const notes = [
    `The codeowners npm package (v5) is timed on an evenly spaced sample of ${NPM_SAMPLE} paths per input; ours on every path (median of ${RUNS} runs). The ratio compares time per path.`,
    'Disagreements are expected where that package departs from GitHub: it keeps inline "# comments" as owners and gives gitignore meaning to "dir/*" (nested files too); see test/policies/codeowners-kibana.test.ts.',
  ];
  if (existsSync(join(KIBANA_FIXTURES, 'kibana.CODEOWNERS'))) {
    inputs.push({
      name: 'kibana (real world)',
      codeowners: readFileSync(join(KIBANA_FIXTURES, 'kibana.CODEOWNERS'), 'utf8'),
      paths: readFileSync(join(KIBANA_FIXTURES, 'kibana.paths'), 'utf8').split('\n').filter(Boolean),
    });
  } else {
    notes.push(`Skipped the kibana input: ${KIBANA_FIXTURES} not found.`);
  }

  const figures = inputs.map(measure);
  return {
    title: 'owners: CODEOWNERS lookups, ours vs the codeowners npm package',
    columns: ['input', 'rules', 'paths', 'parse ms', 'ours total ms', 'ours µs/path', 'npm µs/path', 'faster', 'agree'],
    rows: figures.map((f) => [
      f.input,
      String(f.rules),
      String(f.paths),
      f.parseMs.toFixed(1),
      f.oursTotalMs.toFixed(1),
      f.oursPerPathUs.toFixed(2),
      f.npmPerPathUs.toFixed(0),
      `${Math.round(f.speedup)}x`,
      `${f.agreeing}/${f.npmSample}`,
    ]),
    notes,
    figures,
  };
}

function measure(input: Input): OwnersFigures {
  let start = performance.now();
  const ours = parseCodeowners(input.codeowners, '.github/CODEOWNERS');
  const parseMs = performance.now() - start;

  const totals: number[] = [];
  let owned = 0;
  for (let run = 0; run <= RUNS; run++) {
    start = performance.now();
    for (const path of input.paths) owned += ours.ownersOf(path).owners.length > 0 ? 1 : 0;
    // Run 0 warms the JIT up and is not counted.
    if (run > 0) totals.push(performance.now() - start);
  }
  if (owned === 0) throw new Error(`${input.name}: no path is owned; the benchmark input is wrong`);
  const oursTotalMs = totals.sort((a, b) => a - b)[Math.floor(totals.length / 2)];

  const step = Math.max(1, Math.floor(input.paths.length / NPM_SAMPLE));
  const sample = input.paths.filter((_, i) => i % step === 0).slice(0, NPM_SAMPLE);
  const dir = mkdtempSync(join(tmpdir(), 'owners-bench-'));
  try {
    // The package only reads a CODEOWNERS file from disk, found from a directory.
    mkdirSync(join(dir, '.github'));
    writeFileSync(join(dir, '.github', 'CODEOWNERS'), input.codeowners);
    const npm = new Codeowners(dir);
    start = performance.now();
    const npmOwners = sample.map((path) => npm.getOwner(path));
    const npmMs = performance.now() - start;
    const agreeing = sample.filter((path, i) => sameOwners(ours.ownersOf(path).owners, npmOwners[i])).length;

    const oursPerPathUs = (oursTotalMs * 1000) / input.paths.length;
    const npmPerPathUs = (npmMs * 1000) / sample.length;
    return {
      input: input.name,
      rules: ours.rules.length,
      paths: input.paths.length,
      parseMs,
      oursTotalMs,
      oursPerPathUs,
      npmSample: sample.length,
      npmPerPathUs,
      speedup: npmPerPathUs / oursPerPathUs,
      agreeing,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function sameOwners(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((owner, i) => owner === b[i]);
}
