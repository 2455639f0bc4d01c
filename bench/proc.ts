import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * CPU time and resident memory of processes, from Linux's /proc (the benchmark measures this machine; on
 * other systems these read as null).
 */

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

/**
 * utime + stime in clock ticks from the text of /proc/<pid>/stat. The command name (field 2) is in parentheses
 * and may hold spaces, so fields are counted from the last ')'.
 */
export function parseStatCpuTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state is field 3, so utime (14) and stime (15) are at offsets 11 and 12.
  return Number(fields[11]) + Number(fields[12]);
}

/** Seconds of CPU a process has used so far; null when it is gone or /proc is not there. */
export function cpuSeconds(pid: number): number | null {
  try {
    return parseStatCpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) / clockTicks();
  } catch {
    return null;
  }
}

/** Resident set size in bytes; null when unknown. */
export function rssBytes(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Measures the cores each named process used between `start()` and `stop()`. */
export function cpuMeter(pids: Record<string, number>): { stop(): Record<string, number | null> } {
  const started = performance.now();
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  return {
    stop() {
      const seconds = (performance.now() - started) / 1000;
      return Object.fromEntries(
        Object.entries(pids).map(([name, pid]) => {
          const [a, b] = [before[name], cpuSeconds(pid)];
          return [name, a == null || b === null ? null : Number(((b - a) / seconds).toFixed(2))];
        }),
      );
    },
  };
}
