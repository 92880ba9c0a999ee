import { NavLink, Outlet, useNavigate } from "react-router";
import type { LiveStatus, LiveUpdates } from "../api/live";
import { useSession } from "../auth/AuthContext";
import { LiveProvider, useLiveStatus } from "../live/LiveContext";
import { MessagesButton } from "../messages/MessagesButton";
import { UnreadProvider } from "../messages/UnreadContext";
import { ProjectProvider, ProjectSelector } from "../projects/ProjectContext";
import { sentenceOf } from "./format";
import { ThemeToggle } from "./ThemeToggle";
import { useToast } from "./Toasts";
import { UserMenu } from "./UserMenu";

export const SECTIONS = [
  { path: "/queue", label: "Merge queue" },
  { path: "/vault", label: "Vault" },
  { path: "/messages", label: "Messages" },
  { path: "/logs", label: "Logs" },
  { path: "/health", label: "Health" },
  { path: "/admin", label: "Administration" },
] as const;

const LIVE_LABEL: Record<LiveStatus, string> = {
  idle: "Live updates off",
  connecting: "Live updates connecting",
  open: "Live updates on",
  waiting: "Live updates reconnecting",
  unavailable: "Live updates not available on this server",
};

/**
 * The frame around every signed-in page: header, navigation and the page itself, inside the
 * live-updates socket, the project choice and the unread-message count they all share.
 */
export function Shell({ live }: { live?: LiveUpdates }) {
  const session = useSession();
  return (
    <LiveProvider
      getToken={session.auth.accessToken}
      renewToken={session.auth.refresh}
      {...(live && { live })}
    >
      <ProjectProvider>
        <UnreadProvider>
          <Frame />
        </UnreadProvider>
      </ProjectProvider>
    </LiveProvider>
  );
}

function Frame() {
  const session = useSession();
  const navigate = useNavigate();
  const toast = useToast();
  const liveStatus = useLiveStatus();

  async function logout() {
    await session.logout();
    toast.show("You are signed out.", "info");
    navigate("/login", { replace: true });
  }

  async function logoutEverywhere() {
    try {
      await session.logoutEverywhere();
    } catch (failure) {
      // Still signed in here: say so rather than pretend the other sign-ins ended.
      toast.show(sentenceOf(failure, "Your sign-ins could not be ended; try again."), "error");
      return;
    }
    toast.show("You are signed out in every browser and on every device.", "info");
    navigate("/login", { replace: true });
  }

  async function forgetGitLabToken() {
    try {
      await session.auth.api.del("/api/auth/gitlab-token");
    } catch (failure) {
      toast.show(sentenceOf(failure, "Your GitLab token could not be forgotten; try again."), "error");
      return;
    }
    toast.show("This server no longer keeps a GitLab token of yours.", "info");
  }

  return (
    <div className="flex min-h-screen flex-col">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:text-indigo-700"
      >
        Skip to main content
      </a>
      <header className="flex items-center gap-4 border-b border-slate-200 bg-white px-4 py-2 dark:border-slate-800 dark:bg-slate-900">
        <NavLink to="/queue" className="text-lg font-semibold text-indigo-700 dark:text-indigo-300">
          Merge Assist
        </NavLink>
        <ProjectSelector />
        <div className="ml-auto flex items-center gap-1">
          <span
            role="img"
            aria-label={LIVE_LABEL[liveStatus]}
            title={LIVE_LABEL[liveStatus]}
            className={`mr-2 inline-block h-2 w-2 rounded-full ${liveStatus === "open" ? "bg-emerald-500" : "bg-slate-400"}`}
          />
          <MessagesButton />
          <ThemeToggle />
          <UserMenu
            user={session.user}
            onLogout={() => void logout()}
            onLogoutEverywhere={() => void logoutEverywhere()}
            onForgetGitLabToken={() => void forgetGitLabToken()}
          />
        </div>
      </header>
      <div className="flex flex-1 flex-col md:flex-row">
        <nav aria-label="Main" className="border-b border-slate-200 p-3 md:w-52 md:border-r md:border-b-0 dark:border-slate-800">
          <ul className="flex gap-1 overflow-x-auto md:flex-col">
            {SECTIONS.map((section) => (
              <li key={section.path}>
                <NavLink
                  to={section.path}
                  className={({ isActive }) =>
                    `block rounded-md px-3 py-2 text-sm whitespace-nowrap focus-visible:outline-2 focus-visible:outline-indigo-500 ${
                      isActive
                        ? "bg-indigo-50 font-medium text-indigo-800 dark:bg-indigo-950 dark:text-indigo-200"
                        : "text-slate-700 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800"
                    }`
                  }
                >
                  {section.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" tabIndex={-1} className="min-w-0 flex-1 p-6 focus:outline-none">
          <Outlet />
        </main>
      </div>
    </div>
  );
}
