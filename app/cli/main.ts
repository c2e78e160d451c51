/**
 * `mercurial-jit`: one module per command, looked up in a table. Commands are imported when used,
 * so `validate` does not load the audit store.
 */
import { EXIT, UsageError, type CliIo, type Command } from './io.js';

export type { CliIo } from './io.js';

interface CommandEntry {
  summary: string;
  load: () => Promise<{ run: Command; usage: string }>;
}

const COMMANDS: Record<string, CommandEntry> = {
  validate: {
    summary: 'check a policy file; FILE:LINE:COL: message per problem',
    load: async () => {
      const m = await import('./validate.js');
      return { run: m.validateCommand, usage: m.VALIDATE_USAGE };
    },
  },
  owners: {
    summary: 'print the CODEOWNERS owners of paths',
    load: async () => {
      const m = await import('./owners.js');
      return { run: m.ownersCommand, usage: m.OWNERS_USAGE };
    },
  },
  explain: {
    summary: 'print the decision the policy makes for a request, and why',
    load: async () => {
      const m = await import('./explain.js');
      return { run: m.explainCommand, usage: m.EXPLAIN_USAGE };
    },
  },
  diff: {
    summary: 'compare the decisions of two versions of a policy',
    load: async () => {
      const m = await import('./diff.js');
      return { run: m.diffCommand, usage: m.DIFF_USAGE };
    },
  },
  audit: {
    summary: 'audit verify: check that the audit trail was not tampered with',
    // audit parses its own arguments and prints its own usage.
    load: async () => ({ run: (await import('./audit.js')).auditCommand, usage: '' }),
  },
};

export const USAGE = `Usage: mercurial-jit COMMAND [OPTIONS]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`)
  .join('\n')}

Run \`mercurial-jit COMMAND --help\` for a command's options, \`mercurial-jit --version\` for the version.
Output is JSON unless --format text is given.

Exit codes:
  0  success (validate: the file is valid)
  1  an input file is invalid or unreadable; problems are printed on stderr
     (owners and explain still print what GitHub would compute, skipping bad CODEOWNERS lines)
  2  bad arguments; usage is printed on stderr
  141  whatever read the output closed it early (as \`| head\` does)
`;

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout)(USAGE);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    io.stdout(`mercurial-jit ${io.version ?? '(version unknown)'}\n`);
    return EXIT.ok;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    io.stderr(`mercurial-jit: unknown command "${name}"\n\n${USAGE}`);
    return EXIT.usage;
  }
  const command = await entry.load();
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`mercurial-jit ${name}: ${err.message}\n\n${command.usage}`);
    return EXIT.usage;
  }
}
