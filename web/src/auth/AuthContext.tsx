import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from "react";
import { type Auth, auth as defaultAuth, type CurrentUser } from "../api/auth";

export type SessionStatus = "checking" | "signed-out" | "signed-in";

export interface Session {
  status: SessionStatus;
  user: CurrentUser | null;
  auth: Auth;
  login(username: string, password: string): Promise<void>;
  loginWithGitlabToken(token: string): Promise<void>;
  logout(): Promise<void>;
  /** End every sign-in of this person; throws (still signed in here) when refused. */
  logoutEverywhere(): Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

/** Knows who is signed in; tries a silent refresh at start so a live session carries on. */
export function AuthProvider({ children, auth = defaultAuth }: { children: ReactNode; auth?: Auth }) {
  const [status, setStatus] = useState<SessionStatus>("checking");
  const [user, setUser] = useState<CurrentUser | null>(null);

  useEffect(() => {
    let cancelled = false;
    const unsubscribe = auth.onSessionEnded(() => {
      setUser(null);
      setStatus("signed-out");
    });
    void (async () => {
      const renewed = await auth.refresh();
      const current = renewed ? await auth.me().catch(() => null) : null;
      if (cancelled) return;
      setUser(current);
      setStatus(current ? "signed-in" : "signed-out");
    })();
    return () => {
      cancelled = true;
      unsubscribe();
    };
  }, [auth]);

  const afterSignIn = useCallback(async () => {
    setUser(await auth.me());
    setStatus("signed-in");
  }, [auth]);

  const session = useMemo<Session>(
    () => ({
      status,
      user,
      auth,
      async login(username, password) {
        await auth.login(username, password);
        await afterSignIn();
      },
      async loginWithGitlabToken(token) {
        await auth.loginWithGitlabToken(token);
        await afterSignIn();
      },
      async logout() {
        await auth.logout();
        setUser(null);
        setStatus("signed-out");
      },
      async logoutEverywhere() {
        await auth.logoutEverywhere();
        setUser(null);
        setStatus("signed-out");
      },
    }),
    [status, user, auth, afterSignIn],
  );

  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

/** The current session (throws outside <AuthProvider>). */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession must be used inside <AuthProvider>");
  return session;
}

