/**
 * What a process costs, read from /proc: resident memory (VmRSS) and CPU time (utime + stime).
 * Linux only; a process that has exited reads as undefined.
 */
import { readdirSync, readFileSync } from 'node:fs'

/** Clock ticks per second for /proc/<pid>/stat; 100 on every Linux this runs on. */
export const CLOCK_TICKS = 100

/** Resident memory in bytes. */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m == null ? undefined : Number(m[1]) * 1024
  } catch {
    return undefined
  }
}

/** CPU time used so far (user + system) in milliseconds. */
export function cpuMs(pid: number): number | undefined {
  try {
    return parseCpuMs(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return undefined
  }
}

/** utime + stime of a /proc/<pid>/stat line, in ms. The command name may contain spaces: skip past ')'. */
export function parseCpuMs(stat: string): number {
  const { user, system } = parseCpuSplit(stat)
  return user + system
}

/** utime and stime (kernel: syscalls, and the virtual network's packet path) in ms. */
export function parseCpuSplit(stat: string): { user: number; system: number } {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  return { user: (Number(fields[11]) * 1000) / CLOCK_TICKS, system: (Number(fields[12]) * 1000) / CLOCK_TICKS }
}

/** Kernel CPU time used so far in ms. */
export function systemCpuMs(pid: number): number | undefined {
  try {
    return parseCpuSplit(readFileSync(`/proc/${pid}/stat`, 'utf8')).system
  } catch {
    return undefined
  }
}

/** The machine's 1-minute load average. */
export function loadAverage(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0])
  } catch {
    return NaN
  }
}

/** CPU time in ms per thread name (the comm of each /proc/<pid>/task entry), summed over threads of that name. */
export function cpuMsByThread(pid: number): Record<string, number> | undefined {
  try {
    const out: Record<string, number> = {}
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim()
      const ms = parseCpuMs(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'))
      const key = tid === String(pid) ? 'main' : name
      out[key] = (out[key] ?? 0) + ms
    }
    return out
  } catch {
    return undefined
  }
}
