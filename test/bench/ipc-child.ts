/** A benchmark subject in a child process, spoken to by request and response over IPC. */
import { fork, type ChildProcess } from 'node:child_process';

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

  /** Forks `file` (stdout ignored, stderr shared) with node flags `execArgv`. */
  static fork<R extends object>(file: string, execArgv: readonly string[] = []): Child<R> {
    return new Child<R>(fork(file, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [...execArgv] }));
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
