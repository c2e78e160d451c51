/**
 * A deterministic, monorepo-like CODEOWNERS and a set of changed paths for benchmarks.
 * The same seed always gives the same text and paths, so runs are comparable across machines.
 */
import { seededRandom } from '../test/seeded-random.js';

export interface Monorepo {
  /** CODEOWNERS text with exactly `rules` rules (plus comments and blank lines). */
  codeowners: string;
  /** Changed paths, repository-relative. */
  paths: string[];
  /** Every `@org/team` the file uses. */
  teams: string[];
}

export interface MonorepoOptions {
  rules?: number;
  paths?: number;
  seed?: number;
}

const TOP_LEVEL = ['apps', 'packages', 'services', 'libs', 'tools', 'x-pack/plugins', 'src/plugins', 'infra'];
const WORDS = [
  'alerting', 'auth', 'billing', 'cache', 'charts', 'console', 'dashboard', 'data', 'deploy', 'discover',
  'editor', 'events', 'fleet', 'gateway', 'graph', 'ingest', 'inventory', 'lens', 'logs', 'maps', 'metrics',
  'ml', 'monitoring', 'notify', 'observability', 'payments', 'profiling', 'reporting', 'rules', 'search',
  'security', 'session', 'sharing', 'spaces', 'streams', 'synthetics', 'telemetry', 'timeline', 'ui', 'uptime',
];
const INNER = ['src', 'server', 'public', 'common', 'lib', 'components', 'hooks', 'api', 'utils', 'test', 'migrations', 'fixtures', '__snapshots__', 'generated', 'docs'];
const EXTENSIONS = ['.ts', '.tsx', '.js', '.json', '.md', '.yml', '.go', '.proto', '.tf', '.py', '.snap', '.test.ts'];
const FILES = ['index', 'types', 'service', 'handler', 'routes', 'config', 'README', 'package', 'schema', 'constants', 'helpers', 'plugin'];

export function generateMonorepo(options: MonorepoOptions = {}): Monorepo {
  const { rules: ruleCount = 5000, paths: pathCount = 10000, seed = 42 } = options;
  const next = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const teams = Array.from({ length: 60 }, (_, i) => `@acme/team-${WORDS[i % WORDS.length]}${i >= WORDS.length ? '-2' : ''}`);

  // Packages are the unit of ownership in a monorepo: most rules are about one of them.
  const packages: string[] = [];
  const packageCount = Math.max(1, Math.floor(ruleCount / 3));
  for (let i = 0; i < packageCount; i++) packages.push(`${pick(TOP_LEVEL)}/${pick(WORDS)}-${pick(WORDS)}-${i}`);

  const lines = ['# Generated monorepo CODEOWNERS (bench/generate.ts)', '', '* @acme/platform', ''];
  let rules = 1;
  const add = (line: string) => {
    if (rules >= ruleCount) return;
    lines.push(line);
    rules++;
  };
  const globalRules = [
    '*.md @acme/docs',
    '*.proto @acme/api-design',
    '*.tf @acme/infra',
    '**/migrations/ @acme/dba',
    '__snapshots__/',
    'fixtures/ @acme/qa',
    'docs/* @acme/docs',
    '/infra/ @acme/infra @acme/security',
    '/.github/ @acme/platform @acme/security',
    '/.github/CODEOWNERS @acme/security',
  ];
  for (const line of globalRules) add(line);
  lines.push('');
  for (let i = 0; rules < ruleCount; i++) {
    const pkg = packages[i % packages.length];
    const team = pick(teams);
    const roll = next();
    if (roll < 0.55) add(`/${pkg}/ ${team}`);
    else if (roll < 0.65) add(`/${pkg}/${pick(INNER)}/ ${team} ${pick(teams)}`);
    else if (roll < 0.72) add(`/${pkg}/**/*${pick(EXTENSIONS)} ${team}`);
    else if (roll < 0.78) add(`/${pkg}/*.json @acme/release`);
    else if (roll < 0.84) add(`/${pkg}/generated/`);
    else if (roll < 0.9) add(`${pkg}/${pick(INNER)}/${pick(FILES)}${pick(EXTENSIONS)} ${team}`);
    else if (roll < 0.94) add(`/${pkg}/${pick(INNER)}/*.ts ${team}`);
    else if (roll < 0.97) add(`*${pick(WORDS)}*.ts ${team}`);
    else add(`/${pkg.split('/')[0]}/*/${pick(INNER)}/ ${team}`);
  }

  const paths: string[] = [];
  for (let i = 0; i < pathCount; i++) {
    const roll = next();
    const file = `${pick(FILES)}${pick(EXTENSIONS)}`;
    if (roll < 0.05) paths.push(file);
    else if (roll < 0.1) paths.push(`${pick(['docs', 'infra', '.github', 'scripts'])}/${pick(INNER)}/${file}`);
    else {
      const depth = Math.floor(next() * 4);
      const inner = Array.from({ length: depth }, () => pick(INNER));
      paths.push([pick(packages), ...inner, file].join('/'));
    }
  }
  return { codeowners: `${lines.join('\n')}\n`, paths, teams: [...teams, '@acme/platform', '@acme/docs', '@acme/api-design', '@acme/infra', '@acme/dba', '@acme/qa', '@acme/security', '@acme/release'] };
}
