/** A benchmark subject in a child process, spoken to by request and response over IPC. */
import { fork, type ChildProcess } from 'node:child_process';

/** Node flags for the processes under measurement: `BENCH_SUBJECT_ARGS`, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof". */
export const SUBJECT_FLAGS: readonly string[] = (process.env.BENCH_SUBJECT_ARGS ?? '').split(' ').filter((f) => f.length > 0);

/** Forks `file` with its stdout ignored (http-mitm-proxy logs every per-host server it starts: the tables stay readable). */
export function forkQuiet(file: string, execArgv: readonly string[] = []): ChildProcess {
  return fork(file, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [...execArgv] });
}

/** A forked child that answers each `{ ...request, id }` with `{ id, result }`. */
export class Child<Request extends object> {
  private next = 0;
  private readonly waiting = new Map<number, (value: unknown) => void>();
  constructor(readonly process: ChildProcess) {
    process.on('message', (m: { id: number; result: unknown }) => {
      this.waiting.get(m.id)?.(m.result);
      this.waiting.delete(m.id);
    });
  }

  /** Forks `file` (a subject under measurement: `SUBJECT_FLAGS`, stdout ignored). */
  static fork<R extends object>(file: string): Child<R> {
    return new Child<R>(forkQuiet(file, SUBJECT_FLAGS));
  }

  ask<T>(request: Request): Promise<T> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve as (value: unknown) => void);
      this.process.send({ ...request, id });
    });
  }
}

/**
 * The child's side: answers each `{ ...request, id }` with its handler's result (a thrown error or
 * rejection as `{ error }`); on `stop`, answers once `stop()` settled and exits; exits when the
 * parent goes.
 */
export function serve<R extends { readonly op: string }>(handlers: { readonly [K in Exclude<R['op'], 'stop'>]: (request: Extract<R, { op: K }>) => unknown }, stop: () => Promise<void>): void {
  process.on('message', (message: R & { id: number }) => {
    const reply = (result: unknown): void => {
      process.send?.({ id: message.id, result });
    };
    if (message.op === 'stop') {
      void stop().finally(() => {
        reply(null);
        process.exit(0);
      });
      return;
    }
    const handler = (handlers as unknown as Record<string, ((request: R) => unknown) | undefined>)[message.op];
    if (handler === undefined) throw new Error(`unknown op ${JSON.stringify(message.op)}`);
    Promise.resolve()
      .then(() => handler(message))
      .then(reply, (err: Error) => reply({ error: err.stack ?? err.message }));
  });
  process.on('disconnect', () => process.exit(0));
}
