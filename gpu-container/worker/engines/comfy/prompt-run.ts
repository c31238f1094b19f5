import {
  EngineCrashedError,
  EngineInterruptedError,
  type HeritageError,
  RequestTimeoutError,
} from '../../../../contracts/errors.js';
import type { ApiPrompt, RunOptions, RunResult } from './comfy-client.js';
import {
  type ExecutionError,
  type HistoryEntry,
  type PromptAccepted,
  parseSocketEvent,
  type Queue,
} from './comfy-messages.js';
import { crashedError, type ProcessWatch } from './comfy-process.js';
import { openSocket } from './comfy-socket.js';
import { promptOutcome } from './prompt-outcome.js';

/** The calls a run needs from the HTTP client. */
export interface PromptRunEndpoints {
  queuePrompt(prompt: ApiPrompt, promptId: string): Promise<PromptAccepted>;
  history(promptId: string): Promise<HistoryEntry | undefined>;
  queue(): Promise<Queue>;
  systemStats(): Promise<unknown>;
  interrupt(promptId?: string): Promise<void>;
  deleteQueued(promptIds: string[]): Promise<void>;
  free(options: { unloadModels: boolean; freeMemory: boolean }): Promise<void>;
}

export interface PromptRunOptions {
  comfy: PromptRunEndpoints;
  socketUrl: string;
  prompt: ApiPrompt;
  promptId: string;
  run: RunOptions;
  process: ProcessWatch | undefined;
  historyPollMs: number;
  reconnectGraceMs: number;
  reconnectDelayMs: number;
  connectTimeoutMs: number;
}

/** Once a finishing event was seen, history is checked this often until the entry appears. */
const FINISHING_POLL_MS = 100;

/**
 * Follows one prompt from POST /prompt to its history entry.
 *
 * The socket brings progress and wakes the run when ComfyUI reports an end; /history is the record of
 * the outcome and is also polled, so a lost socket message cannot hang the run. When the socket closes,
 * the run probes /system_stats: if ComfyUI answers, it reconnects (and checks that ComfyUI still knows the
 * prompt, which a restart would have lost); if ComfyUI stays unreachable for `reconnectGraceMs`, or the
 * watched process exits, the run fails with EngineCrashedError.
 */
export class PromptRun {
  private readonly o: PromptRunOptions;
  private socket: WebSocket | undefined;
  private settled = false;
  private queued = false;
  private finishing = false;
  private polling = false;
  private reconnecting = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private socketError: ExecutionError | undefined;
  private finishingSeen = false;
  private resolve: (result: RunResult) => void = () => {};
  private reject: (error: unknown) => void = () => {};
  private readonly onAbort = () => this.stop('aborted');
  private stopWatching: (() => void) | undefined;

  constructor(options: PromptRunOptions) {
    this.o = options;
  }

  start(): Promise<RunResult> {
    const promise = new Promise<RunResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    const { signal, timeoutMs } = this.o.run;
    if (signal?.aborted) {
      this.fail(new EngineInterruptedError('the worker stopped before the prompt was queued'));
      return promise;
    }
    signal?.addEventListener('abort', this.onAbort, { once: true });
    this.deadline = setTimeout(() => this.stop('timeout'), timeoutMs);
    this.stopWatching = this.o.process?.onExit((exit) =>
      this.fail(crashedError(exit, 'while running a prompt')),
    );
    this.queue().catch((error: unknown) => this.fail(error));
    return promise;
  }

  private async queue(): Promise<void> {
    const connected = await this.connect();
    if (this.settled || this.finishing) return;
    await this.o.comfy.queuePrompt(this.o.prompt, this.o.promptId);
    if (this.settled || this.finishing) {
      // Stopped while POST /prompt was in flight: the cleanup may have run before ComfyUI queued it.
      await Promise.allSettled([
        this.o.comfy.deleteQueued([this.o.promptId]),
        this.o.comfy.interrupt(this.o.promptId),
      ]);
      return;
    }
    this.queued = true;
    this.o.run.onProgress?.({ kind: 'queued', promptId: this.o.promptId });
    this.schedulePoll(this.o.historyPollMs);
    // ComfyUI took the prompt but not the socket: poll, and keep trying to get the socket back.
    if (!connected) this.onSocketClosed(1006);
  }

  /** Opens the socket; true once open. */
  private async connect(): Promise<boolean> {
    const socket = await openSocket(this.o.socketUrl, this.o.connectTimeoutMs, {
      onText: (text) => this.onMessage(text),
      onClose: (code) => {
        if (this.socket === socket) this.socket = undefined;
        if (!this.settled) this.onSocketClosed(code);
      },
    });
    if (socket === undefined) return false;
    if (this.settled) {
      socket.close();
      return false;
    }
    this.socket = socket;
    return true;
  }

  private onMessage(text: string): void {
    let event: ReturnType<typeof parseSocketEvent>;
    try {
      event = parseSocketEvent(text);
    } catch {
      // A frame we cannot read must not end the run: /history still tells the outcome.
      return;
    }
    const promptId = this.o.promptId;
    const { onProgress } = this.o.run;
    switch (event.type) {
      case 'executing': {
        const { node, prompt_id } = event.data;
        if (prompt_id !== undefined && prompt_id !== promptId) return;
        if (node === null) this.wake(true);
        else onProgress?.({ kind: 'executing', promptId, node, classType: this.o.prompt[node]?.class_type });
        return;
      }
      case 'progress': {
        const { prompt_id, node, value, max } = event.data;
        if (prompt_id && prompt_id !== promptId) return;
        onProgress?.({ kind: 'progress', promptId, node: node ?? undefined, value, max });
        return;
      }
      case 'execution_error':
        if (event.data.prompt_id !== promptId) return;
        this.socketError = event.data;
        this.wake(true);
        return;
      case 'execution_success':
      case 'execution_interrupted':
        if (event.data.prompt_id === promptId) this.wake(true);
        return;
      default:
        return;
    }
  }

  /** Checks history now; after a finishing event, keeps checking quickly until the entry is written. */
  private wake(finishing: boolean): void {
    if (finishing) this.finishingSeen = true;
    if (this.queued) this.schedulePoll(0);
  }

  private schedulePoll(delayMs: number): void {
    if (this.settled || this.finishing) return;
    clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => void this.poll(), delayMs);
  }

  private async poll(): Promise<void> {
    if (this.polling || this.settled || this.finishing) return;
    this.polling = true;
    let entry: HistoryEntry | undefined;
    try {
      entry = await this.o.comfy.history(this.o.promptId);
    } catch {
      // Unreachable for a moment: the socket's close handler decides whether ComfyUI crashed.
    } finally {
      this.polling = false;
    }
    if (entry !== undefined) this.finish(entry);
    else this.schedulePoll(this.finishingSeen ? FINISHING_POLL_MS : this.o.historyPollMs);
  }

  private finish(entry: HistoryEntry): void {
    const outcome = promptOutcome(this.o.promptId, entry, this.socketError);
    if (outcome instanceof Error) this.fail(outcome);
    else this.succeed(outcome);
  }

  private onSocketClosed(code: number): void {
    if (this.reconnecting || this.o.process?.hasExited()) return;
    this.reconnecting = true;
    this.reconnect(code)
      .catch((error: unknown) => this.fail(error))
      .finally(() => {
        this.reconnecting = false;
      });
  }

  /** Tells a reconnectable drop from a crash: ComfyUI answering again, or not within the grace period. */
  private async reconnect(closeCode: number): Promise<void> {
    let unreachableSince: number | undefined;
    let delayMs = this.o.reconnectDelayMs;
    while (!this.settled && !this.finishing) {
      const reachable = await this.probe();
      if (this.settled || this.finishing) return;
      if (reachable) {
        unreachableSince = undefined;
        if (await this.connect()) {
          this.o.run.onProgress?.({ kind: 'reconnected', promptId: this.o.promptId });
          this.wake(false);
          return;
        }
      } else {
        unreachableSince ??= Date.now();
        if (Date.now() - unreachableSince >= this.o.reconnectGraceMs) {
          throw new EngineCrashedError(
            `ComfyUI closed its socket (code ${closeCode}) and stayed unreachable for ${this.o.reconnectGraceMs} ms`,
            { details: { close_code: closeCode, prompt_id: this.o.promptId } },
          );
        }
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, Math.max(this.o.reconnectDelayMs, this.o.historyPollMs));
    }
  }

  /** True when ComfyUI answers and still knows the prompt; EngineCrashedError when it lost it. */
  private async probe(): Promise<boolean> {
    try {
      await this.o.comfy.systemStats();
      await this.ensurePromptKnown();
      return true;
    } catch (error) {
      if (error instanceof EngineCrashedError) throw error;
      return false;
    }
  }

  /**
   * A ComfyUI that restarted has neither history nor queue entry for the prompt: the run is lost.
   * Rejects with EngineCrashedError then; with anything else if ComfyUI did not answer.
   */
  private async ensurePromptKnown(): Promise<void> {
    if (!this.queued) return;
    const { comfy, promptId } = this.o;
    const inHistory = async () => {
      const entry = await comfy.history(promptId);
      if (entry !== undefined) this.finish(entry);
      return entry !== undefined;
    };
    if (await inHistory()) return;
    const queue = await comfy.queue();
    const items = [...queue.queue_running, ...queue.queue_pending];
    if (items.some((item) => item[1] === promptId)) return;
    if (await inHistory()) return;
    throw new EngineCrashedError(`ComfyUI restarted and lost prompt ${promptId}`, {
      details: { prompt_id: promptId },
    });
  }

  /** The deadline passed or the worker is stopping: interrupt ComfyUI before failing the run. */
  private stop(reason: 'timeout' | 'aborted'): void {
    if (this.settled || this.finishing) return;
    this.finishing = true;
    clearTimeout(this.pollTimer);
    const { comfy, promptId, run } = this.o;
    const cleanup = async (): Promise<unknown[]> => {
      const results = await Promise.allSettled([
        comfy.deleteQueued([promptId]),
        comfy.interrupt(promptId),
        // A run that overstayed may have left VRAM fragmented or a model half loaded.
        ...(reason === 'timeout' ? [comfy.free({ unloadModels: true, freeMemory: true })] : []),
      ]);
      return results.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
    };
    void cleanup().then((cleanupErrors) => {
      const details = {
        prompt_id: promptId,
        ...(cleanupErrors.length > 0 ? { cleanup_errors: cleanupErrors } : {}),
      };
      const error: HeritageError =
        reason === 'timeout'
          ? new RequestTimeoutError(
              `ComfyUI did not finish within ${run.timeoutMs} ms; the prompt was interrupted and memory freed`,
              { details: { ...details, timeout_ms: run.timeoutMs } },
            )
          : new EngineInterruptedError('the worker stopped the prompt', { details });
      this.fail(error);
    });
  }

  private succeed(result: RunResult): void {
    if (this.settled) return;
    this.cleanup();
    this.resolve(result);
  }

  private fail(error: unknown): void {
    if (this.settled) return;
    this.cleanup();
    this.reject(error);
  }

  private cleanup(): void {
    this.settled = true;
    clearTimeout(this.pollTimer);
    clearTimeout(this.deadline);
    this.o.run.signal?.removeEventListener('abort', this.onAbort);
    this.stopWatching?.();
    this.socket?.close();
    this.socket = undefined;
  }
}
