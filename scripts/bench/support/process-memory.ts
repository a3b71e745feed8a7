import { readFileSync } from 'node:fs';

/**
 * Resident memory of a process from Linux's /proc/<pid>/status: what it holds now (VmRSS) and the
 * most it ever held (VmHWM). Undefined elsewhere (no /proc) or once the process is gone.
 */
export interface ProcessMemory {
  rssBytes: number;
  peakRssBytes: number;
}

export function processMemory(pid: number): ProcessMemory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
    const memory = { rssBytes: kib('VmRSS'), peakRssBytes: kib('VmHWM') };
    return Number.isFinite(memory.rssBytes) && Number.isFinite(memory.peakRssBytes) ? memory : undefined;
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; the highest sample is the peak of that span. */
export function sampleRss(pid: number, everyMs = 100): { stop: () => number | undefined } {
  let peak: number | undefined;
  const take = () => {
    const rss = processMemory(pid)?.rssBytes;
    if (rss !== undefined) peak = Math.max(peak ?? 0, rss);
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      take();
      return peak;
    },
  };
}

export const mib = (bytes: number | undefined): string => (bytes === undefined ? '?' : `${Math.round(bytes / 2 ** 20)} MiB`);
