/**
 * Sign-in state of the dashboard. The access token lives in memory only (never localStorage),
 * so a script injected into the page cannot read it back from storage after a reload.
 *
 * The refresh token travels one of two ways, chosen by `refreshTransport`:
 * - `"memory"`: the server returns it in the JSON body and it is kept in memory; a reload
 *   signs the person out. For API clients and tests.
 * - `"cookie"` (the dashboard): sign-in sends `X-Refresh-Transport: cookie`, so the server
 *   keeps the refresh token in an httpOnly SameSite=Strict cookie (never in the body, never
 *   readable by scripts); the refresh/logout calls send the cookie plus the CSRF token read
 *   from the readable `merge_assist_csrf` cookie (`__Host-merge_assist_csrf` over https) in
 *   `X-CSRF-Token` (double-submit). A reload
 *   keeps the session: the app starts with a silent `refresh()`.
 */
import { type ApiClient, ApiError, createApiClient } from "./client";

export interface TokenResponse {
  access_token: string;
  token_type: "bearer";
  expires_in: number;
  refresh_token?: string;
}

export interface CurrentUser {
  id: number | string;
  username: string;
  display_name: string | null;
  email: string | null;
  roles: string[];
  is_active: boolean;
}

export type RefreshTransport = "memory" | "cookie";

export interface AuthOptions {
  baseUrl?: string;
  fetch?: typeof fetch;
  refreshTransport?: RefreshTransport;
  /** Readable cookie holding the CSRF token (cookie transport only). */
  csrfCookieName?: string;
  csrfHeaderName?: string;
  /** Where cookies are read from (tests pass their own). */
  readCookies?: () => string;
}

export interface Auth {
  /** The API client, with the bearer token and the refresh-on-401 wired in. */
  api: ApiClient;
  login(username: string, password: string): Promise<void>;
  loginWithGitlabToken(token: string): Promise<void>;
  /** Get a new access token; false when there is no session to renew. Never throws. */
  refresh(): Promise<boolean>;
  /** End the session on the server (best effort) and forget the tokens. */
  logout(): Promise<void>;
  /**
   * End every sign-in of this person (all browsers and devices), then forget the tokens here.
   * Throws the server's refusal (or "unreachable") and keeps this session, so it can be retried.
   */
  logoutEverywhere(): Promise<void>;
  me(): Promise<CurrentUser>;
  /** The access token (for the live-updates socket's first message). */
  accessToken(): string | null;
  isSignedIn(): boolean;
  /** Called when the session ends (logout, or refresh refused); returns an unsubscribe. */
  onSessionEnded(listener: () => void): () => void;
}

/** The header asking the server to put the refresh token into an httpOnly cookie. */
export const TRANSPORT_HEADER = "X-Refresh-Transport";

/** How the dashboard keeps its refresh token: in the server's httpOnly cookie. */
export const DASHBOARD_REFRESH_TRANSPORT: RefreshTransport = "cookie";

function readCookie(cookies: string, name: string): string | null {
  for (const part of cookies.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

/** Build the sign-in state; the app uses the `auth` singleton below. */
export function createAuth(options: AuthOptions = {}): Auth {
  const transport = options.refreshTransport ?? "memory";
  const csrfCookie = options.csrfCookieName ?? "merge_assist_csrf";
  const csrfHeader = options.csrfHeaderName ?? "X-CSRF-Token";
  const readCookies = options.readCookies ?? (() => document.cookie);
  let accessToken: string | null = null;
  let refreshToken: string | null = null;
  let refreshing: Promise<boolean> | null = null;
  const listeners = new Set<() => void>();

  const api = createApiClient({
    ...(options.baseUrl !== undefined && { baseUrl: options.baseUrl }),
    ...(options.fetch !== undefined && { fetch: options.fetch }),
    getAccessToken: () => accessToken,
    refresh: () => refresh(),
    onUnauthenticated: () => endSession(),
  });

  function keep(tokens: TokenResponse): void {
    accessToken = tokens.access_token;
    if (transport === "memory") refreshToken = tokens.refresh_token ?? null;
  }

  function endSession(): void {
    const hadSession = accessToken !== null || refreshToken !== null;
    accessToken = null;
    refreshToken = null;
    if (hadSession) for (const listener of listeners) listener();
  }

  function cookieOptions(): { credentials: RequestCredentials; headers: Record<string, string> } {
    // Served over https the server names it `__Host-<name>` (host-only, Secure, Path=/).
    const cookies = readCookies();
    const csrf = readCookie(cookies, `__Host-${csrfCookie}`) ?? readCookie(cookies, csrfCookie);
    return { credentials: "include", headers: csrf ? { [csrfHeader]: csrf } : {} };
  }

  async function renew(): Promise<boolean> {
    if (transport === "memory" && refreshToken === null) return false;
    try {
      const tokens =
        transport === "memory"
          ? await api.post<TokenResponse>(
              "/api/auth/refresh",
              { refresh_token: refreshToken },
              { anonymous: true },
            )
          : await api.post<TokenResponse>("/api/auth/refresh", undefined, {
              anonymous: true,
              ...cookieOptions(),
            });
      keep(tokens);
      return true;
    } catch (error) {
      // Refused: the session is over. Unreachable: keep it, the next request may succeed.
      if (error instanceof ApiError && error.status !== 0) endSession();
      return false;
    }
  }

  function refresh(): Promise<boolean> {
    // Requests failing together share one refresh: a rotating refresh token works only once.
    refreshing ??= renew().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  async function signIn(path: string, body: unknown): Promise<void> {
    const extra =
      transport === "cookie"
        ? { credentials: "include" as const, headers: { [TRANSPORT_HEADER]: "cookie" } }
        : {};
    keep(await api.post<TokenResponse>(path, body, { anonymous: true, ...extra }));
  }

  async function logout(): Promise<void> {
    try {
      if (transport === "memory") {
        await api.post("/api/auth/logout", { refresh_token: refreshToken });
      } else {
        await api.post("/api/auth/logout", undefined, cookieOptions());
      }
    } catch {
      // The tokens are forgotten here whatever the server said; it may be unreachable.
    } finally {
      endSession();
    }
  }

  async function logoutEverywhere(): Promise<void> {
    // The bearer token says who; the answer also clears this browser's cookies.
    await api.post("/api/auth/logout-all", undefined, transport === "cookie" ? cookieOptions() : {});
    endSession();
  }

  return {
    api,
    login: (username, password) => signIn("/api/auth/login", { username, password }),
    loginWithGitlabToken: (token) => signIn("/api/auth/login-gitlab", { token }),
    refresh,
    logout,
    logoutEverywhere,
    me: () => api.get<CurrentUser>("/api/auth/me"),
    accessToken: () => accessToken,
    isSignedIn: () => accessToken !== null,
    onSessionEnded(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** The dashboard's sign-in state and API client. */
export const auth = createAuth({ refreshTransport: DASHBOARD_REFRESH_TRANSPORT });
export const api = auth.api;
