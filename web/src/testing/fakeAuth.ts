/** An `Auth` for component tests: records calls, answers as the test says. No network. */
import { vi } from "vitest";
import type { Auth, CurrentUser } from "../api/auth";
import { createApiClient } from "../api/client";

export const ADA: CurrentUser = {
  id: 1,
  username: "ada",
  display_name: "Ada Lovelace",
  email: "ada@example.com",
  roles: ["admin"],
  is_active: true,
};

/** `fetch` answers the API calls (see `fakeApi`); without it every call reads as "ready". */
export function fakeAuth(options: { signedIn?: boolean; user?: CurrentUser; fetch?: typeof fetch } = {}) {
  let signedIn = options.signedIn ?? false;
  const listeners = new Set<() => void>();
  const auth = {
    api: createApiClient({
      fetch: options.fetch ?? (async () => new Response(JSON.stringify({ status: "ready", database: "sqlite" }))),
      getAccessToken: () => null,
      refresh: async () => false,
    }),
    login: vi.fn(async () => {
      signedIn = true;
    }),
    loginWithGitlabToken: vi.fn(async () => {
      signedIn = true;
    }),
    refresh: vi.fn(async () => signedIn),
    logout: vi.fn(async () => {
      signedIn = false;
    }),
    logoutEverywhere: vi.fn(async () => {
      signedIn = false;
    }),
    me: vi.fn(async () => options.user ?? ADA),
    accessToken: () => (signedIn ? "token" : null),
    isSignedIn: () => signedIn,
    onSessionEnded(listener: () => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  } satisfies Auth;
  return auth;
}
