/**
 * The projects the signed-in person may see (`GET /api/projects`) and the one chosen in the
 * header, remembered across visits (an id, not a secret). Until someone chooses, the busiest
 * queue is shown (`GET /api/queue/activity`). Queue, logs and vault follow it.
 */
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from "react";
import { ApiError } from "../api/client";
import { useSession } from "../auth/AuthContext";

export interface Project {
  id: number;
  gitlab_project_id: number;
  path_with_namespace: string;
  name: string;
  web_url: string | null;
  default_branch: string | null;
  is_active: boolean;
  created_at: string;
  webhook_id: number | null;
}

export interface ProjectChoice {
  status: "loading" | "ready" | "failed";
  projects: Project[];
  /** The chosen project; null when there is none to choose. */
  project: Project | null;
  error: string | null;
  choose(id: number): void;
  /** Read the list again (after onboarding a project). */
  reload(): void;
}

export const PROJECT_STORAGE_KEY = "merge-assist.project";

const ProjectContext = createContext<ProjectChoice | null>(null);

function remembered(): number | null {
  const value = Number(localStorage.getItem(PROJECT_STORAGE_KEY));
  return Number.isInteger(value) && value > 0 ? value : null;
}

/** One visible project's queue now (`GET /api/queue/activity`, busiest first). */
export interface ProjectActivity {
  project_id: number;
  queued: number;
  last_activity_at: string | null;
}

/** The project whose queue holds the most MRs (then the latest change); null if unknown. */
async function busiestProject(api: { get<T>(path: string): Promise<T> }): Promise<number | null> {
  try {
    const activity = await api.get<ProjectActivity[]>("/api/queue/activity");
    return Array.isArray(activity) ? (activity[0]?.project_id ?? null) : null;
  } catch {
    return null; // the first project then, as before
  }
}

/** Loads the visible projects once the session is known. */
export function ProjectProvider({ children }: { children: ReactNode }) {
  const { auth, status: sessionStatus } = useSession();
  const [projects, setProjects] = useState<Project[]>([]);
  const [status, setStatus] = useState<ProjectChoice["status"]>("loading");
  const [error, setError] = useState<string | null>(null);
  const [chosen, setChosen] = useState<number | null>(remembered);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    if (sessionStatus !== "signed-in") return undefined;
    let cancelled = false;
    auth.api
      .get<Project[]>("/api/projects")
      .then(async (list) => {
        const active = Array.isArray(list) ? list.filter((project) => project.is_active) : [];
        // Nobody chose yet: open where the queue is moving, not merely the first project.
        const busiest = active.length > 1 && !active.some((project) => project.id === remembered()) ? await busiestProject(auth.api) : null;
        if (cancelled) return;
        setProjects(active);
        if (busiest !== null && active.some((project) => project.id === busiest)) setChosen(busiest);
        setStatus("ready");
        setError(null);
      })
      .catch((failure: unknown) => {
        if (cancelled) return;
        setStatus("failed");
        setError(failure instanceof ApiError ? failure.detail : "The projects could not be loaded.");
      });
    return () => {
      cancelled = true;
    };
  }, [auth, sessionStatus, generation]);

  const choose = useCallback((id: number) => {
    localStorage.setItem(PROJECT_STORAGE_KEY, String(id));
    setChosen(id);
  }, []);
  const reload = useCallback(() => setGeneration((value) => value + 1), []);

  const value = useMemo<ProjectChoice>(() => {
    const project = projects.find((candidate) => candidate.id === chosen) ?? projects[0] ?? null;
    return { status, projects, project, error, choose, reload };
  }, [status, projects, chosen, error, choose, reload]);
  return <ProjectContext.Provider value={value}>{children}</ProjectContext.Provider>;
}

/** The project choice of the nearest provider. */
export function useProjects(): ProjectChoice {
  const choice = useContext(ProjectContext);
  if (!choice) throw new Error("useProjects must be used inside <ProjectProvider>");
  return choice;
}

/** The header's project selector: disabled until there is a project to choose. */
export function ProjectSelector() {
  const { projects, project, status, choose } = useProjects();
  const none = projects.length === 0;
  const hint =
    status === "loading"
      ? "Loading projects…"
      : none
        ? "Projects appear here once an administrator onboards them (Administration)."
        : "The project the pages show";
  return (
    <label className="flex items-center gap-2 text-sm">
      <span className="sr-only sm:not-sr-only">Project</span>
      <select
        disabled={none}
        title={hint}
        value={project?.id ?? ""}
        onChange={(event) => choose(Number(event.target.value))}
        className="max-w-56 rounded-md border border-slate-300 bg-white px-2 py-1 text-sm disabled:opacity-70 dark:border-slate-600 dark:bg-slate-800"
      >
        {none ? <option value="">No projects yet</option> : null}
        {projects.map((item) => (
          <option key={item.id} value={item.id}>
            {item.path_with_namespace}
          </option>
        ))}
      </select>
    </label>
  );
}
