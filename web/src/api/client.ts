/**
 * The typed HTTP client of the dashboard: JSON in and out, the server's `detail` sentence on
 * every refusal, the bearer token from memory, and one silent refresh on 401 before a retry.
 */

/** A refusal or failure, carrying the sentence to show a person. */
export class ApiError extends Error {
  /** HTTP status; 0 when the server could not be reached at all. */
  readonly status: number;
  /** The server's machine-readable `code` (`network`, `bad_response` for client-side ones). */
  readonly code: string;
  /** The sentence to show: the server's `detail`, or one written here. */
  readonly detail: string;

  constructor(status: number, code: string, detail: string) {
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

export const NETWORK_ERROR_SENTENCE =
  "The server could not be reached. Check that Merge Assist is running and try again.";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface RequestOptions {
  /** JSON body; sent with `Content-Type: application/json`. */
  body?: unknown;
  /** A body sent as is (an upload's `FormData`); the browser sets its content type. */
  rawBody?: BodyInit;
  /** Skip the bearer token and the refresh-on-401 (login, refresh). */
  anonymous?: boolean;
  /** Send cookies (the refresh cookie once the server keeps the refresh token in one). */
  credentials?: RequestCredentials;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface ApiClientOptions {
  /** Prefix of every path (default: same origin). */
  baseUrl?: string;
  /** The fetch to use (tests pass Node's own). */
  fetch?: typeof fetch;
  /** The current access token, held in memory only. */
  getAccessToken: () => string | null;
  /** Try to get a new access token; resolves true when one was obtained. */
  refresh: () => Promise<boolean>;
  /** Called when a request stays unauthorised after the refresh (the session is over). */
  onUnauthenticated?: () => void;
}

export interface ApiClient {
  request<T>(method: HttpMethod, path: string, options?: RequestOptions): Promise<T>;
  get<T>(path: string, options?: RequestOptions): Promise<T>;
  post<T>(path: string, body?: unknown, options?: RequestOptions): Promise<T>;
  put<T>(path: string, body?: unknown, options?: RequestOptions): Promise<T>;
  del<T>(path: string, options?: RequestOptions): Promise<T>;
  /** The successful response itself (downloads, exports); refusals still throw `ApiError`. */
  raw(method: HttpMethod, path: string, options?: RequestOptions): Promise<Response>;
}

/** Turn a non-2xx response into an `ApiError` with the best sentence available. */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  try {
    const body: unknown = JSON.parse(text);
    if (body !== null && typeof body === "object" && "detail" in body) {
      const { detail, code } = body as { detail: unknown; code?: unknown };
      const codeText = typeof code === "string" ? code : "error";
      if (typeof detail === "string" && detail.trim() !== "") {
        return new ApiError(response.status, codeText, detail);
      }
    }
  } catch {
    // Not JSON (a proxy's HTML page, an empty body): fall through to a sentence of our own.
  }
  const reason = response.statusText ? ` (${response.statusText})` : "";
  return new ApiError(
    response.status,
    "bad_response",
    `The server answered with status ${response.status}${reason}. Try again in a moment.`,
  );
}

async function parseBody<T>(response: Response): Promise<T> {
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  if (text === "") return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(response.status, "bad_response", "The server sent a reply that is not JSON.");
  }
}

/** Build a client; the dashboard uses one, wired to the `auth` module. */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const baseUrl = options.baseUrl ?? "";
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  async function send(
    method: HttpMethod,
    path: string,
    opts: RequestOptions,
    token: string | null,
  ): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json", ...opts.headers };
    if (opts.body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `Bearer ${token}`;
    const init: RequestInit = { method, headers, credentials: opts.credentials ?? "same-origin" };
    if (opts.body !== undefined) init.body = JSON.stringify(opts.body);
    else if (opts.rawBody !== undefined) init.body = opts.rawBody;
    if (opts.signal) init.signal = opts.signal;
    try {
      return await doFetch(baseUrl + path, init);
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") throw error;
      throw new ApiError(0, "network", NETWORK_ERROR_SENTENCE);
    }
  }

  async function respond(method: HttpMethod, path: string, opts: RequestOptions): Promise<Response> {
    const token = () => (opts.anonymous ? null : options.getAccessToken());
    const sentWith = token();
    let response = await send(method, path, opts, sentWith);
    if (response.status === 401 && !opts.anonymous) {
      // The access token expired (or was revoked): one silent refresh, then one retry. When
      // another request renewed it meanwhile, retry with that token instead of refreshing again.
      const renewed = token() !== sentWith && token() !== null ? true : await options.refresh();
      if (renewed) response = await send(method, path, opts, token());
      if (response.status === 401) options.onUnauthenticated?.();
    }
    if (!response.ok) throw await errorFromResponse(response);
    return response;
  }

  async function request<T>(method: HttpMethod, path: string, opts: RequestOptions = {}): Promise<T> {
    return parseBody<T>(await respond(method, path, opts));
  }

  return {
    request,
    get: (path, opts) => request("GET", path, opts),
    post: (path, body, opts) => request("POST", path, { ...opts, body }),
    put: (path, body, opts) => request("PUT", path, { ...opts, body }),
    del: (path, opts) => request("DELETE", path, opts),
    raw: (method, path, opts) => respond(method, path, opts ?? {}),
  };
}
