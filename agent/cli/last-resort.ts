/**
 * The last resort of `outpost start`: a fault that nothing else caught (an uncaught exception, or a
 * rejected promise nobody handled) is logged with its context, the agent is stopped (which writes
 * every queued audit record and checkpoints the store), and the process exits with
 * {@link CRASH_EXIT_CODE} so that its supervisor starts a fresh one: the systemd unit
 * (`build/linux/outpost-agent.service`, `Restart=on-failure`). Carrying on after an uncaught
 * exception would run an agent whose state nobody knows; restarting it costs about two seconds.
 *
 * Installed by the CLI only: an agent embedded in another process (tests, `outpost demo`) leaves
 * that process's fault handling to its owner.
 */
import type { Logger } from '../log.js';

/**
 * The exit code after an uncaught fault: 70, EX_SOFTWARE in sysexits.h ("an internal software
 * error"). Any non-zero code makes systemd's `Restart=on-failure` restart the agent; this one tells
 * a crash apart from a refused config (1) in `systemctl status` and the tray.
 */
export const CRASH_EXIT_CODE = 70;

/** How long stopping the agent may take before the process exits anyway (ms). */
const STOP_DEADLINE_MS = 5_000;

/** What the last resort stops: the running agent, once there is one. */
export interface Stoppable {
  stop(): Promise<void>;
}

/** The installed last resort. */
export interface LastResort {
  /** The agent to stop on a fault (before it is set, a fault only logs and exits). */
  guard(agent: Stoppable): void;
  /** Removes the process listeners (a clean shutdown). */
  dispose(): void;
}

/** The fields a fault is logged with: allow-listed, no request data. */
function describeFault(error: unknown, origin: string): Record<string, unknown> {
  const err = error instanceof Error ? error : new Error(`non-error thrown: ${String(error)}`);
  return {
    origin,
    error: { type: err.name, message: err.message, code: (err as NodeJS.ErrnoException).code ?? null, stack: err.stack ?? null },
    uptimeS: Math.round(process.uptime()),
  };
}

/**
 * Installs the last resort for this process. One 'uncaughtException' listener sees both kinds of
 * fault: with no 'unhandledRejection' listener, Node (15+, `--unhandled-rejections=throw`, the
 * default) raises an unhandled rejection as an uncaught exception whose `origin` says so.
 */
export function installLastResort(log: Logger, exit: (code: number) => void = (code) => process.exit(code)): LastResort {
  let agent: Stoppable | null = null;
  let faulted = false;
  let exiting = false;
  const finish = (): void => {
    if (exiting) return;
    exiting = true;
    log.flush(() => exit(CRASH_EXIT_CODE));
  };
  const onFault = (error: unknown, origin: string): void => {
    if (faulted) {
      // A second fault while stopping: log it, the exit is already on its way.
      log.fatal(describeFault(error, origin), 'another uncaught fault while stopping');
      return;
    }
    faulted = true;
    log.fatal(describeFault(error, origin), 'uncaught fault: stopping the agent so that its supervisor restarts it');
    const deadline = setTimeout(() => {
      log.fatal({ deadlineMs: STOP_DEADLINE_MS }, 'the agent did not stop in time; exiting');
      finish();
    }, STOP_DEADLINE_MS);
    Promise.resolve()
      .then(() => agent?.stop())
      .catch((err: unknown) => log.error({ err: (err as Error).message }, 'stopping the agent after a fault failed'))
      .finally(() => {
        clearTimeout(deadline);
        finish();
      });
  };
  process.on('uncaughtException', onFault);
  return {
    guard(running) {
      agent = running;
    },
    dispose() {
      process.off('uncaughtException', onFault);
    },
  };
}
