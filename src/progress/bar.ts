/**
 * The 'bar' progress collector: live cli-progress bars (on stderr) per step and resource
 * (extract), table (normalize) and package jobs (load). When stdout or stderr is not a
 * TTY it degrades to the 'log' collector.
 */
import { createRequire } from 'node:module';
import type cliProgressModule from 'cli-progress';
import type { ProgressCollector, ProgressEvent } from './events.js';
import { LogCollector, type LogCollectorOptions } from './log.js';

// cli-progress (and the width tables it brings) loads with the first bar, not with haul.
const requireFromHere = createRequire(import.meta.url);
let loaded: typeof cliProgressModule | undefined;
function cliProgressLib(): typeof cliProgressModule {
  loaded ??= requireFromHere('cli-progress') as typeof cliProgressModule;
  return loaded;
}

export interface BarCollectorOptions {
  /** Where bars are drawn (default: process.stderr). */
  stream?: NodeJS.WriteStream;
  /** Options of the log collector used when there is no TTY. */
  log?: LogCollectorOptions;
}

export class BarCollector implements ProgressCollector {
  private readonly stream: NodeJS.WriteStream;
  private multibar?: cliProgressModule.MultiBar;
  private readonly bars = new Map<string, cliProgressModule.SingleBar>();

  constructor(opts: BarCollectorOptions = {}) {
    this.stream = opts.stream ?? process.stderr;
  }

  on(e: ProgressEvent): void {
    switch (e.type) {
      case 'step_start':
        this.ensure();
        break;
      case 'progress': {
        const mb = this.ensure();
        if (e.step === 'load') {
          if (!e.loadId || e.jobsTotal === undefined) break;
          this.bar(mb, `load ${e.loadId}`, e.jobsTotal, 'jobs').update(e.jobsDone ?? 0, { what: `load ${e.loadId}` });
        } else {
          const name = (e.step === 'extract' ? e.resource : undefined) ?? e.table;
          if (!name || e.count === undefined) break;
          this.bar(mb, `${e.step} ${name}`, 0, e.step === 'extract' ? 'items' : 'rows').update(e.count);
        }
        break;
      }
      case 'step_end': {
        if (e.error) this.multibar?.log(`${e.step} failed: ${e.error}\n`);
        // Bars of unknown size end with their final count.
        for (const [key, bar] of this.bars) {
          if (!key.startsWith(e.step)) continue;
          const n = e.step === 'load' ? undefined : e.counts[key.slice(e.step.length + 1)];
          if (n !== undefined) bar.update(n);
        }
        break;
      }
      case 'run_end':
        this.close();
        break;
      default:
        break;
    }
  }

  private ensure(): cliProgressModule.MultiBar {
    const cliProgress = cliProgressLib();
    this.multibar ??= new cliProgress.MultiBar(
      { stream: this.stream, clearOnComplete: false, hideCursor: true, fps: 10, autopadding: true, format: '{what} |{bar}| {value}/{total} {unit} | {duration_formatted}' },
      cliProgress.Presets.shades_classic,
    );
    return this.multibar;
  }

  private bar(mb: cliProgressModule.MultiBar, key: string, total: number, unit: string): cliProgressModule.SingleBar {
    let b = this.bars.get(key);
    if (!b) {
      const opts = total > 0 ? {} : { format: '{what} {value} {unit} | {duration_formatted}' };
      b = mb.create(total, 0, { what: key, unit }, opts);
      this.bars.set(key, b);
    } else if (total > 0 && b.getTotal() !== total) {
      b.setTotal(total);
    }
    return b;
  }

  close(): void {
    this.multibar?.stop();
    this.multibar = undefined;
    this.bars.clear();
  }
}

/** True when bars can be drawn: both stdout and the bar stream are terminals. */
export function canDrawBars(stream: NodeJS.WriteStream = process.stderr): boolean {
  return process.stdout.isTTY === true && stream.isTTY === true;
}

/** `progress: 'bar'`: bars on a terminal, the log collector otherwise. */
export function barCollector(opts: BarCollectorOptions = {}): ProgressCollector {
  return canDrawBars(opts.stream) ? new BarCollector(opts) : new LogCollector(opts.log);
}
