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
