import { type FormEvent, type KeyboardEvent, useId, useRef, useState } from "react";
import { useLocation, useNavigate } from "react-router";
import { ApiError } from "../api/client";
import { useSession } from "../auth/AuthContext";
import { ThemeToggle } from "../components/ThemeToggle";

type Method = "password" | "gitlab";

const TABS: { method: Method; label: string }[] = [
  { method: "password", label: "Password" },
  { method: "gitlab", label: "GitLab Token" },
];

/** The GitLab page where a person creates a personal access token. */
export function personalAccessTokenPage(gitlabUrl: string): string {
  return `${gitlabUrl.replace(/\/+$/, "")}/-/user_settings/personal_access_tokens`;
}

export const METHOD_NOT_OFFERED = "This server does not offer this way of signing in.";

function sentenceOf(error: unknown): string {
  // A 404 here means the server has no such sign-in endpoint (disabled, or an older server).
  if (error instanceof ApiError && error.status === 404) return METHOD_NOT_OFFERED;
  if (error instanceof ApiError) return error.detail;
  return "Signing in failed unexpectedly. Try again, and tell an administrator if it persists.";
}

export interface LoginPageProps {
  /** The GitLab address the server works with; shows the link to its token page when known. */
  gitlabUrl?: string | null;
}

/** Sign in with a password or a GitLab personal access token. */
export function LoginPage({ gitlabUrl = null }: LoginPageProps) {
  const session = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const [method, setMethod] = useState<Method>("password");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const tabRefs = useRef<Record<Method, HTMLButtonElement | null>>({ password: null, gitlab: null });
  const id = useId();

  function choose(next: Method, focus = false) {
    setMethod(next);
    setError(null);
    if (focus) tabRefs.current[next]?.focus();
  }

  // Arrow keys, Home and End move between tabs (the WAI-ARIA tabs pattern).
  function onTabKey(event: KeyboardEvent<HTMLButtonElement>) {
    const index = TABS.findIndex((tab) => tab.method === method);
    const moves: Record<string, number> = {
      ArrowRight: (index + 1) % TABS.length,
      ArrowLeft: (index - 1 + TABS.length) % TABS.length,
      Home: 0,
      End: TABS.length - 1,
    };
    const target = moves[event.key];
    if (target === undefined) return;
    event.preventDefault();
    choose(TABS[target]!.method, true);
  }

  async function submit(event: FormEvent<HTMLFormElement>, signIn: (form: FormData) => Promise<void>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(new FormData(event.currentTarget));
      const from = (location.state as { from?: string } | null)?.from;
      navigate(from && from !== "/login" ? from : "/queue", { replace: true });
    } catch (caught) {
      setError(sentenceOf(caught));
    } finally {
      setBusy(false);
    }
  }

  const field = (name: string, form: FormData) => String(form.get(name) ?? "");
  const inputClass =
    "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-slate-900 focus:border-indigo-500 focus:outline-2 focus:outline-indigo-500 dark:border-slate-600 dark:bg-slate-800 dark:text-slate-100";
  const buttonClass =
    "w-full rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 disabled:opacity-60";

  return (
    <main className="flex min-h-screen items-center justify-center p-4">
      <div className="w-full max-w-md">
        <div className="mb-6 flex items-center justify-between">
          <h1 className="text-2xl font-semibold">Sign in to Merge Assist</h1>
          <ThemeToggle />
        </div>
        <div className="rounded-lg border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900">
          <div role="tablist" aria-label="Sign-in method" className="mb-5 flex gap-1 border-b border-slate-200 dark:border-slate-700">
            {TABS.map((tab) => {
              const selected = tab.method === method;
              return (
                <button
                  key={tab.method}
                  ref={(element) => {
                    tabRefs.current[tab.method] = element;
                  }}
                  type="button"
                  role="tab"
                  id={`${id}-tab-${tab.method}`}
                  aria-selected={selected}
                  aria-controls={`${id}-panel-${tab.method}`}
                  tabIndex={selected ? 0 : -1}
                  onClick={() => choose(tab.method)}
                  onKeyDown={onTabKey}
                  className={`-mb-px border-b-2 px-4 py-2 text-sm font-medium focus-visible:outline-2 focus-visible:outline-indigo-500 ${
                    selected
                      ? "border-indigo-600 text-indigo-700 dark:border-indigo-400 dark:text-indigo-300"
                      : "border-transparent text-slate-500 hover:text-slate-800 dark:text-slate-400 dark:hover:text-slate-200"
                  }`}
                >
                  {tab.label}
                </button>
              );
            })}
          </div>

          {method === "password" ? (
            <form
              role="tabpanel"
              id={`${id}-panel-password`}
              aria-labelledby={`${id}-tab-password`}
              className="space-y-4"
              onSubmit={(event) =>
                submit(event, (form) => session.login(field("username", form), field("password", form)))
              }
            >
              <label className="block text-sm font-medium">
                Username
                <input name="username" autoComplete="username" required className={inputClass} />
              </label>
              <label className="block text-sm font-medium">
                Password
                <input
                  name="password"
                  type="password"
                  autoComplete="current-password"
                  required
                  className={inputClass}
                />
              </label>
              <button type="submit" disabled={busy} className={buttonClass}>
                {busy ? "Signing in…" : "Sign in"}
              </button>
            </form>
          ) : (
            <form
              role="tabpanel"
              id={`${id}-panel-gitlab`}
              aria-labelledby={`${id}-tab-gitlab`}
              className="space-y-4"
              onSubmit={(event) => submit(event, (form) => session.loginWithGitlabToken(field("token", form)))}
            >
              <label className="block text-sm font-medium">
                GitLab personal access token
                <input
                  name="token"
                  type="password"
                  autoComplete="off"
                  spellCheck={false}
                  required
                  aria-describedby={`${id}-scopes`}
                  className={inputClass}
                />
              </label>
              <p id={`${id}-scopes`} className="text-sm text-slate-600 dark:text-slate-400">
                The token needs the scope <code>api</code>, or <code>read_api</code> together with{" "}
                <code>read_repository</code> and <code>write_repository</code>.
              </p>
              {gitlabUrl ? (
                <p className="text-sm">
                  <a
                    href={personalAccessTokenPage(gitlabUrl)}
                    target="_blank"
                    rel="noopener noreferrer"
                    className="text-indigo-700 underline hover:text-indigo-900 dark:text-indigo-300"
                  >
                    Create a personal access token on GitLab
                  </a>
                </p>
              ) : null}
              <button type="submit" disabled={busy} className={buttonClass}>
                {busy ? "Signing in…" : "Sign in with GitLab"}
              </button>
            </form>
          )}

          {error ? (
            <p role="alert" className="mt-4 rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200">
              {error}
            </p>
          ) : null}
        </div>
      </div>
    </main>
  );
}
