/**
 * Synchronous requests to the database worker: post a message, block on a SharedArrayBuffer
 * flag with Atomics.wait, then take the reply with receiveMessageOnPort. No native code.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { workerCode } from './sources.ts';
import type { PgErrorFields, WorkerEvent, WorkerInit, WorkerRequest, WorkerResponse, WorkerSession } from './protocol.ts';

export class ChannelError extends Error {
  constructor(message: string, readonly fields: PgErrorFields) {
    super(message);
    this.name = 'ChannelError';
  }
}

export interface ChannelOptions {
  connectionString: string;
  applicationName: string;
  sessionSql: readonly string[];
  /** Longest wait for one reply before the worker is declared dead (default: no limit). */
  requestTimeoutMs?: number;
}

/** A database thread started before its session was known (startEarly); the next start() takes it. */
interface EarlyThread {
  worker: Worker;
  port: MessagePort;
  flag: Int32Array;
  exited?: boolean;
}

let early: EarlyThread | null = null;

function spawn(session: WorkerSession | null): EarlyThread {
  const { port1, port2 } = new MessageChannel();
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const init: WorkerInit = { port: port2, flag, requireFrom: import.meta.url, ...(session ?? {}) };
  const worker = new Worker(workerCode(), { eval: true, workerData: init, transferList: [port2] });
  return { worker, port: port1, flag };
}

export class SyncChannel {
  private dead: string | null = null;
  /** Never notified: Atomics.wait on it is a sleep. */
  private readonly nap = new Int32Array(new SharedArrayBuffer(4));

  private constructor(
    private readonly worker: Worker,
    private readonly port: MessagePort,
    private readonly flag: Int32Array,
    private readonly timeoutMs: number,
    readonly backendPid: number,
  ) {
    worker.on('exit', () => {
      this.dead ??= 'the PLV8 host worker exited';
    });
    worker.on('error', (e) => {
      this.dead ??= `the PLV8 host worker failed: ${e.message}`;
    });
  }

  /**
   * Starts a database thread now, before the connection and session are known: its start
   * (a Node environment, `pg`) then overlaps whatever the caller does until start(), which takes
   * it. An untaken one is ended by discardEarly (or goes with the process: it holds nothing).
   */
  static startEarly(): void {
    if (early) return;
    const thread = spawn(null);
    thread.worker.once('exit', () => {
      thread.exited = true;
    });
    thread.worker.once('error', () => {}); // seen as its exit by the start that takes it
    thread.worker.unref();
    thread.port.unref();
    early = thread;
  }

  /** Ends a thread of startEarly that no start() took. */
  static async discardEarly(): Promise<void> {
    const e = early;
    early = null;
    if (!e) return;
    e.port.close();
    await e.worker.terminate();
  }

  static async start(opts: ChannelOptions): Promise<SyncChannel> {
    const session: WorkerSession = {
      connectionString: opts.connectionString,
      applicationName: opts.applicationName,
      sessionSql: [...opts.sessionSql],
    };
    let thread: EarlyThread;
    if (early && !early.exited) {
      thread = early;
      early = null;
      thread.worker.ref();
      thread.port.ref();
      thread.worker.postMessage(session);
    } else {
      early = null;
      thread = spawn(session);
    }
    const { worker, port: port1, flag } = thread;
    let pid: number;
    try {
      pid = await new Promise<number>((resolve, reject) => {
        worker.once('message', (m: WorkerEvent) => {
          if (m.type === 'ready') resolve(m.backendPid);
          else reject(new ChannelError(`PLV8 host cannot connect: ${m.error.message}`, m.error));
        });
        worker.once('error', (e) => reject(e));
        worker.once('exit', (code) => reject(new Error(`PLV8 host worker exited during startup (code ${code})`)));
      });
    } catch (e) {
      port1.close();
      await worker.terminate();
      throw e;
    }
    worker.removeAllListeners('message');
    worker.removeAllListeners('error');
    worker.removeAllListeners('exit');
    // A forgotten host must not keep Node alive; close() still terminates the worker.
    worker.unref();
    port1.unref();
    return new SyncChannel(worker, port1, flag, opts.requestTimeoutMs ?? Infinity, pid);
  }

  get alive(): boolean {
    return this.dead === null;
  }

  /** Sends one request and blocks until the worker answers. */
  request(req: WorkerRequest): WorkerResponse {
    if (this.dead !== null) throw new ChannelError(this.dead, { message: this.dead, sqlstate: '08003' });
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage(req);
    const waited = Atomics.wait(this.flag, 0, 0, this.timeoutMs);
    let msg = receiveMessageOnPort(this.port);
    // The worker posts before it raises the flag; still, never trust a single look.
    for (let i = 0; !msg && waited !== 'timed-out' && i < 2000; i++) {
      Atomics.wait(this.nap, 0, 0, 1);
      msg = receiveMessageOnPort(this.port);
    }
    if (!msg) {
      this.dead = waited === 'timed-out' ? `no reply from the PLV8 host worker within ${this.timeoutMs} ms` : 'the PLV8 host worker sent no reply';
      void this.worker.terminate();
      throw new ChannelError(this.dead, { message: this.dead, sqlstate: '08006' });
    }
    const res = msg.message as WorkerResponse;
    if (!res.ok && res.fatal) this.dead = `database connection lost: ${res.error.message}`;
    return res;
  }

  async close(): Promise<void> {
    if (this.dead === null) {
      try {
        this.request({ op: 'close' });
      } catch {
        /* terminating anyway */
      }
    }
    this.dead ??= 'the PLV8 host is closed';
    this.port.close();
    await this.worker.terminate();
  }
}
