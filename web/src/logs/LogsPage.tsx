/** `/logs`: the merge queue's log of the chosen project, tailed live, with level and search. */
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { Link } from "react-router";
import { useSession } from "../auth/AuthContext";
import { formatTime, sentenceOf } from "../components/format";
import { LoadState } from "../components/LoadState";
import { Button, INPUT, Page } from "../components/Page";
import { useLiveEvent, useLiveStatus } from "../live/LiveContext";
import { ChosenProject } from "../projects/ChosenProject";
import type { Project } from "../projects/ProjectContext";

export type LogLevel = "debug" | "info" | "warning" | "error";

export interface LogLine {
  id: number;
  project_id: number | null;
  target_branch: string | null;
  level: LogLevel;
  message: string;
  iid: number | null;
  details: Record<string, unknown>;
  created_at: string;
}

const LEVELS: LogLevel[] = ["debug", "info", "warning", "error"];
const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warning: 2, error: 3 };
const LEVEL_STYLE: Record<LogLevel, string> = {
  debug: "text-slate-500",
  info: "text-sky-700 dark:text-sky-400",
  warning: "text-amber-700 dark:text-amber-400",
  error: "text-red-700 dark:text-red-400",
};
/** Lines kept on screen; older ones scroll away. */
export const MAX_LINES = 1000;
/** How often to ask for new lines when the live socket is not open. */
const POLL_MS = 10_000;

/** Whether a line passes the filters (for lines that arrive live). */
export function shows(line: LogLine, level: LogLevel, search: string): boolean {
  return RANK[line.level] >= RANK[level] && (!search || line.message.toLowerCase().includes(search.toLowerCase()));
}

/** Append new lines once each, in id order, keeping the newest `MAX_LINES`. */
export function appendLines(current: LogLine[], incoming: LogLine[]): LogLine[] {
  const seen = new Set(current.map((line) => line.id));
  const merged = [...current, ...incoming.filter((line) => !seen.has(line.id))].sort((a, b) => a.id - b.id);
  return merged.slice(-MAX_LINES);
}

export function LogsPage() {
  return (
    <Page title="Logs">
      <ChosenProject
        noProjectHint={
          <>
            The merge queue logs what it decides for each project. Onboard a project in <Link to="/admin" className="underline">Administration</Link> first.
          </>
        }
      >
        {(project) => <ProjectLog key={project.id} project={project} />}
      </ChosenProject>
    </Page>
  );
}

function ProjectLog({ project }: { project: Project }) {
  const { auth } = useSession();
  const liveStatus = useLiveStatus();
  const id = useId();
  const [level, setLevel] = useState<LogLevel>("info");
  const [draft, setDraft] = useState("");
  const [search, setSearch] = useState("");
  const [lines, setLines] = useState<LogLine[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [following, setFollowing] = useState(true);
  const bottom = useRef<HTMLDivElement>(null);
  const lastId = useRef(0);

  function query(afterId: number | null): string {
    const params = new URLSearchParams({ project_id: String(project.id), level });
    if (search) params.set("q", search);
    if (afterId !== null) params.set("after_id", String(afterId));
    return `/api/logs?${params}`;
  }

  useEffect(() => {
    let cancelled = false;
    setLines(null);
    auth.api
      .get<{ items: LogLine[] }>(query(null))
      .then((result) => {
        if (cancelled) return;
        const items = appendLines([], result.items ?? []);
        lastId.current = items.at(-1)?.id ?? 0;
        setLines(items);
        setError(null);
      })
      .catch((failure: unknown) => !cancelled && setError(sentenceOf(failure, "The log could not be loaded.")));
    return () => {
      cancelled = true;
    };
    // `query` reads project, level and search: the list above names them.
  }, [auth, project.id, level, search]);

  useLiveEvent("log.appended", (event) => {
    const line = event.log as LogLine | undefined;
    if (event.project_id !== project.id || !line || !shows(line, level, search)) return;
    lastId.current = Math.max(lastId.current, line.id);
    setLines((current) => (current ? appendLines(current, [line]) : current));
  });

  // Without the live socket, ask for new lines now and then instead.
  useEffect(() => {
    if (liveStatus === "open" || lines === null) return undefined;
    const timer = setInterval(() => {
      auth.api
        .get<{ items: LogLine[] }>(query(lastId.current))
        .then((result) => {
          const items = result.items ?? [];
          if (items.length === 0) return;
          lastId.current = Math.max(lastId.current, ...items.map((line) => line.id));
          setLines((current) => appendLines(current ?? [], items));
        })
        .catch(() => undefined);
    }, POLL_MS);
    return () => clearInterval(timer);
    // `query` reads project, level and search: the list above names them.
  }, [auth, liveStatus, lines === null, level, search, project.id]);

  useEffect(() => {
    if (following) bottom.current?.scrollIntoView?.({ block: "end" });
  }, [lines, following]);

  function apply(event: FormEvent) {
    event.preventDefault();
    setSearch(draft.trim());
  }

  return (
    <div className="flex flex-col gap-3">
      <form aria-label="Log filters" onSubmit={apply} className="flex flex-wrap items-end gap-3">
        <label htmlFor={`${id}-level`} className="flex flex-col gap-1 text-sm font-medium">
          Minimum level
          <select id={`${id}-level`} value={level} onChange={(e) => setLevel(e.target.value as LogLevel)} className={INPUT}>
            {LEVELS.map((name) => (
              <option key={name} value={name}>{name}</option>
            ))}
          </select>
        </label>
        <label htmlFor={`${id}-search`} className="flex min-w-64 flex-1 flex-col gap-1 text-sm font-medium">
          Search the log
          <input id={`${id}-search`} type="search" value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="text in the message" className={INPUT} />
        </label>
        <Button type="submit" variant="primary">Search</Button>
        <Button aria-pressed={following} onClick={() => setFollowing((value) => !value)}>
          {following ? "Following new lines" : "Follow new lines"}
        </Button>
        <span className="text-xs text-slate-500">{liveStatus === "open" ? "Live" : "Checking for new lines every 10 s"}</span>
      </form>
      <LoadState
        data={lines}
        error={error}
        errorHint="Change the filters or reload the page to try again."
        loading="Loading the log…"
        empty={search ? `No log line at ${level} or above mentions “${search}”.` : `Nothing logged at ${level} or above yet.`}
        emptyHint={search ? "Try other words or a lower level." : "Lines appear here as the merge queue works on this project's merge requests."}
      >
        {(shown) => (
          <div role="log" aria-label={`Log of ${project.path_with_namespace}`} aria-live="off" className="max-h-[65vh] overflow-y-auto rounded-lg border border-slate-200 bg-white font-mono text-xs dark:border-slate-800 dark:bg-slate-950">
            <ol>
              {shown.map((line) => (
                <li key={line.id} className="flex gap-3 border-b border-slate-100 px-3 py-1 dark:border-slate-900">
                  <time dateTime={line.created_at} className="shrink-0 text-slate-500">{formatTime(line.created_at)}</time>
                  <span className={`w-14 shrink-0 uppercase ${LEVEL_STYLE[line.level]}`}>{line.level}</span>
                  <span className="shrink-0 text-slate-500">{[line.target_branch, line.iid !== null ? `!${line.iid}` : null].filter(Boolean).join(" ")}</span>
                  <span className="break-words whitespace-pre-wrap">{line.message}</span>
                </li>
              ))}
            </ol>
            <div ref={bottom} />
          </div>
        )}
      </LoadState>
    </div>
  );
}
