/** `/health`: the API's readiness, and the whole product's status when the server reports it. */
import { useCallback, useEffect, useState } from "react";
import { useSession } from "../auth/AuthContext";
import { type Column, DataTable } from "../components/DataTable";
import { formatAge, formatTime } from "../components/format";
import { LoadState } from "../components/LoadState";
import { Button, Card, Notice, Page } from "../components/Page";
import { useQuery } from "../components/useQuery";
import { useProjects } from "../projects/ProjectContext";
import { AlertSettingsForm } from "./AlertSettingsForm";
import type { AlertSettings, RecentAlerts as Recent } from "./alerts";
import { RecentAlerts } from "./RecentAlerts";
import { describeStates, type HealthStatus, type ProcessStatus, type WebhookHealth } from "./status";
import { WebhooksCard } from "./WebhooksCard";

interface Readiness {
  status: string;
  database: string;
}

/** Refresh period of the page (it is read-only and cheap). */
const REFRESH_MS = 15_000;

export function HealthPage() {
  const { auth, user } = useSession();
  const { api } = auth;
  const isAdmin = user?.roles.includes("admin") ?? false;
  const [generation, setGeneration] = useState(0);
  const refresh = useCallback(() => setGeneration((value) => value + 1), []);
  useEffect(() => {
    const timer = setInterval(refresh, REFRESH_MS);
    return () => clearInterval(timer);
  }, [refresh]);
  const readiness = useQuery(() => api.get<Readiness>("/api/health/ready", { anonymous: true }), [api, generation], "The check failed.");
  const status = useQuery(() => api.get<HealthStatus>("/api/health/status"), [api, generation], "The check failed.");
  const hooks = useQuery(() => api.get<WebhookHealth[]>("/api/health/webhooks"), [api, generation], "GitLab could not be asked about the webhooks.");
  const ready = readiness.error ? null : readiness.data;

  return (
    <Page title="Health" actions={<Button onClick={refresh}>Check again</Button>}>
      <div className="flex flex-col gap-4">
        <Card title="API">
          <dl className="grid grid-cols-[max-content_1fr] gap-x-6 gap-y-2 text-sm">
            <dt className="font-medium">API</dt>
            <dd>{readiness.error ? `not ready: ${readiness.error}` : (ready?.status ?? "checking…")}</dd>
            <dt className="font-medium">Database</dt>
            <dd>{ready?.database ?? "—"}</dd>
          </dl>
        </Card>
        {status.errorStatus === 404 ? (
          <Notice title="This server does not report worker status yet.">The API above is what it checks; update Merge Assist to see workers, leases and queue depth here.</Notice>
        ) : (
          <LoadState data={status.data} error={status.error} errorHint="Use “Check again” in a moment." loading="Reading the status of the workers…">
            {(found) => <StatusCards status={found} />}
          </LoadState>
        )}
        <WebhooksCard hooks={hooks} />
        {isAdmin ? <AdminAlerts generation={generation} onChanged={refresh} /> : null}
      </div>
    </Page>
  );
}

/** Alerts are for administrators: the recent incidents, then the channels and thresholds. */
function AdminAlerts({ generation, onChanged }: { generation: number; onChanged: () => void }) {
  const { api } = useSession().auth;
  const recent = useQuery(() => api.get<Recent>("/api/health/alerts"), [api, generation], "The alerts could not be read.");
  const settings = useQuery(() => api.get<AlertSettings>("/api/health/alerts/settings"), [api], "The alert settings could not be read.");
  return (
    <>
      <RecentAlerts alerts={recent} />
      <AlertSettingsForm settings={settings} onSaved={onChanged} />
    </>
  );
}

function projectName(path: string | null, id: number | null): string {
  return path ?? (id === null ? "all projects" : `project ${id}`);
}

const WORKER_COLUMNS: Column<ProcessStatus>[] = [
  { header: "Process", className: "font-mono text-xs", cell: (worker) => worker.worker_id },
  { header: "Role", cell: (worker) => worker.role },
  { header: "Host", cell: (worker) => `${worker.hostname} pid ${worker.pid}` },
  { header: "Up since", cell: (worker) => formatTime(worker.started_at) },
  { header: "Last seen", cell: (worker) => `${formatAge(worker.last_seen)} ago` },
  {
    header: "State",
    className: (worker) => (worker.alive ? "text-emerald-700 dark:text-emerald-400" : "text-red-700 dark:text-red-400"),
    cell: (worker) => (worker.alive ? "alive" : worker.stopped_at ? "stopped" : "silent"),
  },
];

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
        <DataTable
          caption="Workers"
          columns={WORKER_COLUMNS}
          rows={status.workers}
          rowKey={(worker) => worker.worker_id}
          empty={<Notice title="No worker has reported in.">Start one with `merge-assist serve` (everything in one process) or `merge-assist worker`.</Notice>}
        />
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
