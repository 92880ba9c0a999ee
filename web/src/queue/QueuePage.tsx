/** `/queue`: the chosen project's merge queue, live, with its train, batches, charts and priorities. */
import { useCallback, useEffect, useId, useRef, useState } from "react";
import { Link } from "react-router";
import { useSession } from "../auth/AuthContext";
import { sentenceOf } from "../components/format";
import { LoadState } from "../components/LoadState";
import { Page } from "../components/Page";
import { useToast } from "../components/Toasts";
import { useQuery } from "../components/useQuery";
import { useLiveEvent, useOnReconnect } from "../live/LiveContext";
import { ChosenProject } from "../projects/ChosenProject";
import type { Project } from "../projects/ProjectContext";
import { type Batch, type MergeRequest, type MergeRequestList, type QueueStats, upsert } from "./api";
import { BatchesPanel } from "./BatchesPanel";
import { MergeRequestGroups } from "./MergeRequestGroups";
import { MergeRequestExplanation } from "./MergeRequestExplanation";
import { MergeRequestHistory } from "./MergeRequestHistory";
import { FailuresByReason, MergedPerHour, TimeToMerge } from "./QueueCharts";
import { TrainPanel } from "./TrainPanel";

const BATCHES_SHOWN = 10;
/** Quiet time after live MR events before the list is read again (fresh places in line). */
const RELOAD_AFTER_EVENTS_MS = 1_500;

export function QueuePage() {
  return (
    <Page title="Merge queue">
      <ChosenProject
        failedHint="Reload the page to try again."
        noProjectHint={
          <>
            An administrator onboards a GitLab project in <Link to="/admin" className="underline">Administration</Link>; merge requests assigned to the bot user (or whose review it is asked for) then appear here.
          </>
        }
      >
        {(project) => <ProjectQueue key={project.id} project={project} />}
      </ChosenProject>
    </Page>
  );
}

function ProjectQueue({ project }: { project: Project }) {
  const { auth } = useSession();
  const toast = useToast();
  const branchId = useId();
  const [branch, setBranch] = useState<string | null>(null);
  const [batches, setBatches] = useState<Batch[]>([]);
  const [stats, setStats] = useState<QueueStats | null>(null);
  const [busyId, setBusyId] = useState<number | null>(null);
  const [details, setDetails] = useState<MergeRequest | null>(null);
  const [explaining, setExplaining] = useState<MergeRequest | null>(null);
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (refreshTimer.current !== null) clearTimeout(refreshTimer.current);
    },
    [],
  );

  const query = `?limit=200${branch ? `&target_branch=${encodeURIComponent(branch)}` : ""}`;
  const queue = useQuery(() => auth.api.get<MergeRequestList>(`/api/projects/${project.id}/mrs${query}`), [auth, project.id, branch, generation], "The merge queue could not be loaded.");
  const { data: list, setData: setList } = queue;

  useEffect(() => {
    let cancelled = false;
    // Batches and charts are extras: when they fail the queue itself still shows.
    auth.api
      .get<{ items: Batch[] }>(`/api/projects/${project.id}/batches?limit=${BATCHES_SHOWN}`)
      .then((result) => !cancelled && setBatches(result.items))
      .catch(() => undefined);
    auth.api
      .get<QueueStats>(`/api/projects/${project.id}/stats?hours=24`)
      .then((result) => !cancelled && setStats(result))
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [auth, project.id, generation]);

  useOnReconnect(reload);
  useLiveEvent("mr.updated", (event) => {
    const mr = event.mr as MergeRequest | undefined;
    if (event.project_id !== project.id || !mr) return;
    setList((current) => (current ? { ...current, items: upsert(current.items, mr, branch) } : current));
    // The event carries one MR; the places of the others in line may have moved with it.
    // Read the list again once the burst of events is over.
    if (refreshTimer.current !== null) clearTimeout(refreshTimer.current);
    refreshTimer.current = setTimeout(() => {
      refreshTimer.current = null;
      reload();
    }, RELOAD_AFTER_EVENTS_MS);
  });
  useLiveEvent("batch.updated", (event) => {
    const batch = event.batch as Batch | undefined;
    if (event.project_id !== project.id || !batch) return;
    setBatches((current) => [batch, ...current.filter((item) => item.id !== batch.id)].sort((a, b) => b.id - a.id).slice(0, BATCHES_SHOWN));
  });

  async function setPriority(mr: MergeRequest, priority: number) {
    setBusyId(mr.id);
    try {
      await auth.api.post(`/api/mrs/${mr.id}/priority`, { priority });
      toast.show(`!${mr.iid} now has priority ${priority}.`, "success");
      reload(); // places of the others change too
    } catch (failure) {
      toast.show(sentenceOf(failure, "The priority could not be changed."), "error");
    } finally {
      setBusyId(null);
    }
  }

  const branches = list?.target_branches ?? [];
  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-center gap-3 text-sm">
        {branches.length > 1 ? (
          <label htmlFor={branchId} className="flex items-center gap-2">
            Target branch
            <select id={branchId} value={branch ?? ""} onChange={(event) => setBranch(event.target.value || null)} className="rounded-md border border-slate-300 bg-white px-2 py-1 dark:border-slate-600 dark:bg-slate-800">
              <option value="">All target branches</option>
              {branches.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </label>
        ) : branches.length === 1 ? (
          <span>Target branch: {branches[0]}</span>
        ) : null}
        {list ? (
          <span className="text-slate-500 dark:text-slate-400">
            {list.can_set_priority
              ? `You may change priorities here (at most ${list.priority_cap} raised at once).`
              : "Read-only: changing priorities needs the priority manager role or the project's priority permission."}
          </span>
        ) : null}
        {project.web_url ? (
          <a href={project.web_url} target="_blank" rel="noopener noreferrer" className="ml-auto text-indigo-700 underline dark:text-indigo-300">
            {project.path_with_namespace} on GitLab
          </a>
        ) : null}
      </div>
      <TrainPanel projectId={project.id} branch={branch} refresh={generation} />
      <LoadState
        data={list}
        error={queue.error}
        onRetry={reload}
        loading="Loading the merge queue…"
        empty="No merge requests are queued yet."
        emptyHint={
          <>
            On GitLab, assign a merge request to the bot user (the account whose token Merge Assist uses) or request the bot’s review: it appears here within seconds, and Merge Assist labels it itself.
          </>
        }
        isEmpty={(found) => found.items.every((mr) => mr.queue_state === "removed")}
      >
        {(found) => <MergeRequestGroups items={found.items} canSetPriority={found.can_set_priority} onPriority={(mr, priority) => void setPriority(mr, priority)} onDetails={setDetails} onExplain={setExplaining} busyId={busyId} />}
      </LoadState>
      {details ? (
        <MergeRequestHistory
          mr={details}
          onClose={() => setDetails(null)}
          onExplain={(mr) => {
            setDetails(null);
            setExplaining(mr);
          }}
        />
      ) : null}
      {explaining ? <MergeRequestExplanation mr={explaining} onClose={() => setExplaining(null)} /> : null}
      <BatchesPanel batches={batches} />
      {stats ? (
        <div className="grid gap-4 md:grid-cols-3">
          <MergedPerHour stats={stats} />
          <TimeToMerge stats={stats} />
          <FailuresByReason stats={stats} />
        </div>
      ) : null}
    </div>
  );
}
