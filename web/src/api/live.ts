/**
 * Live updates over one WebSocket (`/api/ws/updates`): reconnects with exponential backoff,
 * and goes quiet when the server has no such endpoint (older servers, or before it lands).
 *
 * The access token is never put in the URL; it is sent as the first message
 * `{"type": "auth", "token": ...}` once the socket opens. The server closes the socket with
 * 4401 when that token expires or the sign-in is ended; the client then renews its token
 * (`renewToken`: a refresh, which signs the page out if the sign-in is over) before it
 * reconnects.
 */

/** The close code of a socket whose token is not (or no longer) accepted. */
export const CLOSE_UNAUTHENTICATED = 4401;

export interface LiveEvent {
  type: string;
  [key: string]: unknown;
}

export type LiveStatus = "idle" | "connecting" | "open" | "waiting" | "unavailable";

/** The part of the browser's WebSocket this client uses (tests pass a fake one). */
export interface SocketLike {
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface LiveUpdatesOptions {
  url?: string;
  createSocket?: (url: string) => SocketLike;
  getToken?: () => string | null;
  /** Called after a 4401 close, before reconnecting (e.g. refresh the access token). */
  renewToken?: () => Promise<unknown>;
  /** First retry delay; doubles per failure up to `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Attempts that never opened before deciding the endpoint is absent. */
  attemptsBeforeUnavailable?: number;
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/** The socket address on the page's own origin (`ws:` or `wss:` to match the page). */
export function defaultUpdatesUrl(location: Location = window.location): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/api/ws/updates`;
}

/** The delay before retry number `attempt` (0-based): doubling, capped. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
}

export class LiveUpdates {
  private readonly options: Required<Omit<LiveUpdatesOptions, "url">> & { url: string | null };
  private readonly handlers = new Map<string, Set<(event: LiveEvent) => void>>();
  private readonly statusListeners = new Set<(status: LiveStatus) => void>();
  private socket: SocketLike | null = null;
  private timer: unknown = null;
  private failures = 0;
  private everOpened = false;
  private running = false;
  private currentStatus: LiveStatus = "idle";

  constructor(options: LiveUpdatesOptions = {}) {
    this.options = {
      url: options.url ?? null,
      createSocket: options.createSocket ?? ((url) => new WebSocket(url)),
      getToken: options.getToken ?? (() => null),
      renewToken: options.renewToken ?? (() => Promise.resolve()),
      initialDelayMs: options.initialDelayMs ?? 1_000,
      maxDelayMs: options.maxDelayMs ?? 30_000,
      attemptsBeforeUnavailable: options.attemptsBeforeUnavailable ?? 4,
      setTimer: options.setTimer ?? ((callback, ms) => setTimeout(callback, ms)),
      clearTimer:
        options.clearTimer ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>)),
    };
  }

  get status(): LiveStatus {
    return this.currentStatus;
  }

  /** Connect (again); a no-op when already running. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.failures = 0;
    this.connect();
  }

  /** Close the socket and stop retrying. */
  stop(): void {
    this.running = false;
    if (this.timer !== null) this.options.clearTimer(this.timer);
    this.timer = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, "dashboard closed");
    this.setStatus("idle");
  }

  /** Receive events of one type (`"*"` for all); returns an unsubscribe. */
  subscribe(type: string, handler: (event: LiveEvent) => void): () => void {
    let set = this.handlers.get(type);
    if (!set) {
      set = new Set();
      this.handlers.set(type, set);
    }
    set.add(handler);
    return () => set.delete(handler);
  }

  onStatus(listener: (status: LiveStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  private setStatus(status: LiveStatus): void {
    if (status === this.currentStatus) return;
    this.currentStatus = status;
    for (const listener of this.statusListeners) listener(status);
  }

  private connect(): void {
    this.timer = null;
    this.setStatus("connecting");
    let socket: SocketLike;
    try {
      socket = this.options.createSocket(this.options.url ?? defaultUpdatesUrl());
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.everOpened = true;
      this.failures = 0;
      const token = this.options.getToken();
      if (token) socket.send(JSON.stringify({ type: "auth", token }));
      this.setStatus("open");
    };
    socket.onmessage = (message) => this.dispatch(message.data);
    socket.onerror = () => {
      // A close event always follows; the retry is decided there.
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return; // stopped, or replaced
      this.socket = null;
      if (event?.code !== CLOSE_UNAUTHENTICATED) {
        this.scheduleRetry();
        return;
      }
      // The token expired or the sign-in was ended: renew it first (a refused refresh signs
      // the page out, which stops this client), then reconnect as after any close.
      this.options
        .renewToken()
        .catch(() => undefined)
        .finally(() => this.scheduleRetry());
    };
  }

  private scheduleRetry(): void {
    if (!this.running) return;
    this.failures += 1;
    if (!this.everOpened && this.failures >= this.options.attemptsBeforeUnavailable) {
      // Never opened: the server has no live updates. Stay quiet; `start()` tries again.
      this.running = false;
      this.setStatus("unavailable");
      return;
    }
    this.setStatus("waiting");
    const { initialDelayMs, maxDelayMs } = this.options;
    const delay = backoffDelay(this.failures - 1, initialDelayMs, maxDelayMs);
    this.timer = this.options.setTimer(() => this.connect(), delay);
  }

  private dispatch(data: unknown): void {
    if (typeof data !== "string") return;
    let event: LiveEvent;
    try {
      const parsed: unknown = JSON.parse(data);
      if (parsed === null || typeof parsed !== "object" || !("type" in parsed)) return;
      event = parsed as LiveEvent;
    } catch {
      return; // not ours
    }
    for (const key of [event.type, "*"]) {
      for (const handler of this.handlers.get(key) ?? []) handler(event);
    }
  }
}
