/** `/health`: the API's readiness, and the whole product's status when the server reports it. */
import { useCallback, useEffect, useState } from "react";
import { ApiError } from "../api/client";
import { useSession } from "../auth/AuthContext";
import { formatAge, formatTime, sentenceOf } from "../components/format";
import { Button, Card, Notice, Page } from "../components/Page";
import { useProjects } from "../projects/ProjectContext";
import { describeStates, type HealthStatus } from "./status";

interface Readiness {
  status: string;
  database: string;
}

type Load<T> = { state: "loading" } | { state: "ready"; value: T } | { state: "failed"; reason: string; status: number };

/** Refresh period of the page (it is read-only and cheap). */
const REFRESH_MS = 15_000;

function useLoad<T>(load: () => Promise<T>, generation: number): Load<T> {
  const [result, setResult] = useState<Load<T>>({ state: "loading" });
  useEffect(() => {
    let cancelled = false;
    load()
      .then((value) => !cancelled && setResult({ state: "ready", value }))
      .catch((error: unknown) => {
        if (cancelled) return;
        setResult({ state: "failed", reason: sentenceOf(error, "The check failed."), status: error instanceof ApiError ? error.status : 0 });
      });
    return () => {
      cancelled = true;
    };
  }, [load, generation]);
  return result;
}

export function HealthPage() {
  const { api } = useSession().auth;
  const [generation, setGeneration] = useState(0);
  const refresh = useCallback(() => setGeneration((value) => value + 1), []);
  useEffect(() => {
    const timer = setInterval(refresh, REFRESH_MS);
    return () => clearInterval(timer);
  }, [refresh]);
  const readiness = useLoad(useCallback(() => api.get<Readiness>("/api/health/ready", { anonymous: true }), [api]), generation);
  const status = useLoad(useCallback(() => api.get<HealthStatus>("/api/health/status"), [api]), generation);

  return (
    <Page title="Health" actions={<Button onClick={refresh}>Check again</Button>}>
      <div className="flex flex-col gap-4">
        <Card title="API">
          <dl className="grid grid-cols-[max-content_1fr] gap-x-6 gap-y-2 text-sm">
            <dt className="font-medium">API</dt>
            <dd>
              {readiness.state === "loading" ? "checking…" : null}
              {readiness.state === "ready" ? readiness.value.status : null}
              {readiness.state === "failed" ? `not ready: ${readiness.reason}` : null}
            </dd>
            <dt className="font-medium">Database</dt>
            <dd>{readiness.state === "ready" ? readiness.value.database : "—"}</dd>
          </dl>
        </Card>
        {status.state === "loading" ? <p role="status">Reading the status of the workers…</p> : null}
        {status.state === "failed" && status.status === 404 ? (
          <Notice title="This server does not report worker status yet.">The API above is what it checks; update Merge Assist to see workers, leases and queue depth here.</Notice>
        ) : null}
        {status.state === "failed" && status.status !== 404 ? <Notice tone="error" title={status.reason}>Use “Check again” in a moment.</Notice> : null}
        {status.state === "ready" ? <StatusCards status={status.value} /> : null}
      </div>
    </Page>
  );
}

function projectName(path: string | null, id: number | null): string {
  return path ?? (id === null ? "all projects" : `project ${id}`);
}

function StatusCards({ status }: { status: HealthStatus }) {
  const { gitlab, inbox } = status;
  const { projects } = useProjects();
  const pathOf = (id: number | null) => projects.find((project) => project.id === id)?.path_with_namespace ?? null;
  return (
    <>
      <div className={`grid gap-4 ${gitlab ? "md:grid-cols-3" : "md:grid-cols-2"}`}>
        {gitlab ? (
          <Card title="GitLab">
            <p className={`text-lg font-semibold ${gitlab.reachable ? "text-emerald-700 dark:text-emerald-400" : "text-red-700 dark:text-red-400"}`}>
              {gitlab.reachable ? "reachable" : "not reachable"}
            </p>
            {gitlab.detail ? <p className="text-xs text-slate-500">{gitlab.detail}</p> : null}
          </Card>
        ) : null}
        <Card title="Queue depth">
          {status.queues.length === 0 ? (
            <p className="text-sm text-slate-500">No merge request is queued.</p>
          ) : (
            <ul className="flex flex-col gap-1 text-sm">
              {status.queues.map((queue) => (
                <li key={`${queue.project_id}-${queue.target_branch}`}>
                  <div className="flex justify-between gap-2">
                    <span>
                      {projectName(queue.project_path, queue.project_id)} → {queue.target_branch}
                    </span>
                    <span className="font-semibold tabular-nums">{queue.total}</span>
                  </div>
                  <div className="text-xs text-slate-500">{describeStates(queue.states)}</div>
                </li>
              ))}
            </ul>
          )}
        </Card>
        <Card title="Webhook inbox">
          <p className="text-lg font-semibold tabular-nums">{inbox.unprocessed}</p>
          <p className="text-xs text-slate-500">
            {inbox.unprocessed === 0
              ? "every received event is handled"
              : `events not yet handled; the oldest arrived ${formatAge(inbox.oldest_received_at)} ago`}
          </p>
        </Card>
      </div>
      <Card title="Workers">
        {status.workers.length === 0 ? (
          <Notice title="No worker has reported in.">Start one with `merge-assist serve` (everything in one process) or `merge-assist worker`.</Notice>
        ) : (
          <table className="w-full text-left text-sm">
            <caption className="sr-only">Workers</caption>
            <thead className="text-xs text-slate-500 uppercase">
              <tr>
                <th scope="col" className="py-1 pr-3">Process</th>
                <th scope="col" className="py-1 pr-3">Role</th>
                <th scope="col" className="py-1 pr-3">Host</th>
                <th scope="col" className="py-1 pr-3">Up since</th>
                <th scope="col" className="py-1 pr-3">Last seen</th>
                <th scope="col" className="py-1 pr-3">State</th>
              </tr>
            </thead>
            <tbody>
              {status.workers.map((worker) => (
                <tr key={worker.worker_id} className="border-t border-slate-100 dark:border-slate-800">
                  <td className="py-1 pr-3 font-mono text-xs">{worker.worker_id}</td>
                  <td className="py-1 pr-3">{worker.role}</td>
                  <td className="py-1 pr-3">
                    {worker.hostname} pid {worker.pid}
                  </td>
                  <td className="py-1 pr-3">{formatTime(worker.started_at)}</td>
                  <td className="py-1 pr-3">{formatAge(worker.last_seen)} ago</td>
                  <td className={`py-1 pr-3 ${worker.alive ? "text-emerald-700 dark:text-emerald-400" : "text-red-700 dark:text-red-400"}`}>
                    {worker.alive ? "alive" : worker.stopped_at ? "stopped" : "silent"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      <Card title="Project leases">
        {status.leases.length === 0 ? (
          <p className="text-sm text-slate-500">No project is being worked on right now.</p>
        ) : (
          <ul className="text-sm">
            {status.leases.map((lease) => (
              <li key={lease.project_id}>
                {projectName(lease.project_path, lease.project_id)}: {lease.held ? "held" : "expired"} by{" "}
                <span className="font-mono text-xs">{lease.owner}</span> until {formatTime(lease.expires_at)}
              </li>
            ))}
          </ul>
        )}
      </Card>
      <Card title="Last errors">
        {status.last_errors.length === 0 ? (
          <p className="text-sm text-slate-500">No recent errors.</p>
        ) : (
          <ul className="flex flex-col gap-1 text-sm">
            {status.last_errors.map((error) => (
              <li key={error.id}>
                <span className="text-slate-500">{formatTime(error.created_at)}</span>{" "}
                <span className="font-medium">
                  {projectName(pathOf(error.project_id), error.project_id)}
                  {error.target_branch ? ` → ${error.target_branch}` : ""}
                  {error.iid !== null ? ` !${error.iid}` : ""}:
                </span>{" "}
                {error.message}
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}
