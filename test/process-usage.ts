/** What Linux's /proc says of a process: its CPU time and resident memory, for benches and demos. */
import { readFileSync } from 'node:fs';

/** Linux reports process CPU time in USER_HZ ticks, fixed at 100 a second whatever the kernel's own tick. */
const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcessCpu {
  parentPid: number;
  /** User and system time the process has used so far, in milliseconds. */
  cpuMs: number;
  /** What its exited children used, once it reaped them, in milliseconds. */
  reapedChildrenCpuMs: number;
}

export function processCpu(pid: number | string): ProcessCpu {
  // Fields counted after the parenthesised command name: ppid is the 4th, utime to cstime the 14th to 17th.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ').map(Number);
  const ms = (ticks: number) => (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
  return { parentPid: fields[1]!, cpuMs: ms(fields[11]! + fields[12]!), reapedChildrenCpuMs: ms(fields[13]! + fields[14]!) };
}

/** CPU time (user and system) a process has used so far, in milliseconds. */
export function processCpuMs(pid: number): number {
  return processCpu(pid).cpuMs;
}

/** A process's resident memory now and at its peak (VmHWM), in MB. */
export function processMemoryMb(pid: number): { rssMb: number; hwmMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? NaN) / 1024;
  return { rssMb: mb('VmRSS'), hwmMb: mb('VmHWM') };
}

/** A process's resident memory now, in MB. */
export function processRssMb(pid: number): number {
  return processMemoryMb(pid).rssMb;
}
