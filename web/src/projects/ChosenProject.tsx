/**
 * The part of a page that shows the chosen project (queue, logs), with the ladder while the
 * projects load: "Loading projects…", the refusal, or "No projects yet." and what to do.
 */
import type { ReactNode } from "react";
import { LoadState } from "../components/LoadState";
import { type Project, useProjects } from "./ProjectContext";

export function ChosenProject({ failedHint, noProjectHint, children }: { failedHint?: ReactNode; noProjectHint: ReactNode; children: (project: Project) => ReactNode }) {
  const { project, status, error } = useProjects();
  return (
    <LoadState
      data={status === "loading" ? null : { project }}
      error={status === "failed" ? (error ?? "The projects could not be loaded.") : null}
      errorHint={failedHint}
      loading="Loading projects…"
      empty="No projects yet."
      emptyHint={noProjectHint}
      isEmpty={(choice) => choice.project === null}
    >
      {(choice) => (choice.project ? children(choice.project) : null)}
    </LoadState>
  );
}
