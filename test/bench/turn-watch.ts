/**
 * Watching an event loop during a burst (CA bench): the loop's delay, and where its longest stall
 * went (the thread's own work vs waiting for a CPU). Runs in the thread whose loop it watches: the
 * bench's, or the engine subject's own process (engine-subject.ts).
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

/** Where the main thread's longest gap went (Linux schedstat; NaN elsewhere). */
interface TurnWatch {
  /** Longest gap between two 1 ms timer callbacks on the engine's thread (ms). */
  gapMaxMs: number;
  /** CPU time the thread ran within that gap (the engine's own work). */
  gapRunMs: number;
  /** Time the thread waited for a CPU within that gap (other threads and processes ran). */
  gapWaitMs: number;
  /** The most CPU the thread ran in any one gap: the engine's longest stretch of work. */
  runMaxMs: number;
}

/**
 * Splits the event loop's stalls into the engine's own work and waiting for a CPU: a 1 ms timer
 * chain reads the thread's schedstat (ns on a CPU, ns runnable but waiting) at every callback.
 * The machine has 2 cores shared with other work, so a stall can be the OS running someone else.
 */
function watchTurns(): { stop(): TurnWatch } {
  const read = (): [number, number] | null => {
    try {
      const [run, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number);
      return [run ?? NaN, wait ?? NaN];
    } catch {
      return null;
    }
  };
  const result: TurnWatch = { gapMaxMs: 0, gapRunMs: NaN, gapWaitMs: NaN, runMaxMs: NaN };
  let last = performance.now();
  let lastSched = read();
  let timer: NodeJS.Timeout | null = null;
  const tick = (): void => {
    const now = performance.now();
    const sched = read();
    const run = sched && lastSched ? (sched[0] - lastSched[0]) / 1e6 : NaN;
    const wait = sched && lastSched ? (sched[1] - lastSched[1]) / 1e6 : NaN;
    if (now - last > result.gapMaxMs) Object.assign(result, { gapMaxMs: now - last, gapRunMs: run, gapWaitMs: wait });
    if (!(run <= result.runMaxMs)) result.runMaxMs = run;
    last = now;
    lastSched = sched;
    timer = setTimeout(tick, 1);
  };
  timer = setTimeout(tick, 1);
  return {
    stop(): TurnWatch {
      if (timer !== null) clearTimeout(timer);
      return result;
    },
  };
}


/** What one watched burst gives. */
export type LoopWatch = TurnWatch & { readonly loopMaxMs: number; readonly loopP95Ms: number };

/** Starts watching this thread's loop; `stop` returns the delays and the turn split. */
export function watchLoop(): { stop(): LoopWatch } {
  // A fresh histogram per burst: a re-enabled one counts the time it was off as one long delay.
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const turns = watchTurns();
  return {
    stop(): LoopWatch {
      const sched = turns.stop();
      loop.disable();
      return { ...sched, loopMaxMs: loop.max / 1e6, loopP95Ms: loop.percentile(95) / 1e6 };
    },
  };
}
