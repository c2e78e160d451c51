/**
 * A PostgreSQL server of the chaos run's own (initdb in a temporary directory, its own port), so the run
 * can crash and restart it without disturbing the machine's shared server. Uses Debian's server binaries.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../free-port.js';
import { processCpu } from '../process-usage.js';

const run = promisify(execFile);
const DEBIAN_SERVERS = '/usr/lib/postgresql';

function serverBinaries(): string {
  const versions = existsSync(DEBIAN_SERVERS) ? readdirSync(DEBIAN_SERVERS).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => join(DEBIAN_SERVERS, v, 'bin')).find((bin) => existsSync(join(bin, 'initdb')));
  if (!found) throw new Error(`no PostgreSQL server binaries under ${DEBIAN_SERVERS}: install Debian's postgresql package (.ci/run does)`);
  return found;
}

export interface PrivatePostgresOptions {
  /** Load pg_stat_statements, planning time included, to see what each statement costs. */
  statementStatistics?: boolean;
}

export class PrivatePostgres {
  private constructor(
    private readonly bin: string,
    private readonly dir: string,
    readonly port: number,
    private readonly options: PrivatePostgresOptions,
  ) {}

  /** postgres://… for the server's `postgres` database. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static async start(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
    const bin = serverBinaries();
    const dir = mkdtempSync(join(tmpdir(), 'jit-chaos-pg-'));
    // The server refuses to run as root; Debian's package brings the `postgres` user.
    if (process.getuid?.() === 0) chownSync(dir, uid('postgres'), gid('postgres'));
    const server = new PrivatePostgres(bin, dir, await freePort(), options);
    await server.run('initdb', ['-D', server.dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
    await server.pgCtl(['start']);
    return server;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** A crash and a restart: in-flight transactions are lost, every connection breaks. */
  async restart(): Promise<void> {
    await this.pgCtl(['stop', '-m', 'immediate']);
    await this.pgCtl(['start']);
  }

  async stop(): Promise<void> {
    try {
      await this.pgCtl(['stop', '-m', 'immediate']);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  /**
   * CPU time the server has used, in ms: the postmaster and its live processes, plus what its exited
   * backends used (the kernel adds a reaped child's time to its parent's cutime and cstime).
   */
  cpuMs(): number {
    const postmaster = Number(readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const own = processCpu(postmaster);
    let used = own.cpuMs + own.reapedChildrenCpuMs;
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      try {
        const child = processCpu(pid);
        if (child.parentPid === postmaster) used += child.cpuMs;
      } catch {
        // The process exited while the list was read.
      }
    }
    return used;
  }

  private pgCtl(args: string[]): Promise<void> {
    const statistics = this.options.statementStatistics ? ' -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_planning=on' : '';
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200${statistics}`;
    return this.run('pg_ctl', [...args, '-D', this.dataDir, '-w', '-t', '60', '-l', join(this.dir, 'server.log'), ...(args[0] === 'start' ? ['-o', options] : [])]);
  }

  /** Async, so the GitHub double running in this process keeps answering meanwhile. */
  private async run(tool: string, args: string[]): Promise<void> {
    const command = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--', join(this.bin, tool), ...args] : [join(this.bin, tool), ...args];
    try {
      await run(command[0], command.slice(1), { encoding: 'utf8' });
    } catch (error) {
      const failed = error as Error & { stdout?: string; stderr?: string };
      throw new Error(`${tool} ${args.join(' ')} failed: ${failed.message}\n${failed.stdout ?? ''}${failed.stderr ?? ''}`);
    }
  }
}

function uid(user: string): number {
  return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
}

function gid(user: string): number {
  return Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
}
