/** `/health`: the API's readiness, and the whole product's status when the server reports it. */
import { useCallback, useEffect, useState } from "react";
import { ApiError } from "../api/client";
import { useSession } from "../auth/AuthContext";
import { formatAge, formatTime, sentenceOf } from "../components/format";
import { Button, Card, Notice, Page } from "../components/Page";
import { type HealthStatus, readStatus } from "./status";

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
  const status = useLoad(useCallback(() => api.get<unknown>("/api/health/status").then(readStatus), [api]), generation);

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

function StatusCards({ status }: { status: HealthStatus }) {
  const { gitlab } = status;
  return (
    <>
      <div className="grid gap-4 md:grid-cols-3">
        <Card title="GitLab">
          <p className={`text-lg font-semibold ${gitlab.reachable === false ? "text-red-700 dark:text-red-400" : gitlab.reachable ? "text-emerald-700 dark:text-emerald-400" : ""}`}>
            {gitlab.reachable === null ? "unknown" : gitlab.reachable ? "reachable" : "not reachable"}
          </p>
          {gitlab.detail ? <p className="text-xs text-slate-500">{gitlab.detail}</p> : null}
        </Card>
        <Card title="Queue depth">
          {status.queueDepth.length === 0 ? (
            <p className="text-sm text-slate-500">No merge request is waiting.</p>
          ) : (
            <ul className="text-sm">
              {status.queueDepth.map((item) => (
                <li key={item.label} className="flex justify-between gap-2">
                  <span>{item.label}</span>
                  <span className="tabular-nums">{item.count}</span>
                </li>
              ))}
            </ul>
          )}
        </Card>
        <Card title="Webhook inbox">
          <p className="text-lg font-semibold tabular-nums">{status.inboxBacklog ?? "—"}</p>
          <p className="text-xs text-slate-500">events received but not yet handled</p>
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
                <th scope="col" className="py-1 pr-3">Worker</th>
                <th scope="col" className="py-1 pr-3">Role</th>
                <th scope="col" className="py-1 pr-3">Host</th>
                <th scope="col" className="py-1 pr-3">Last seen</th>
                <th scope="col" className="py-1 pr-3">State</th>
              </tr>
            </thead>
            <tbody>
              {status.workers.map((worker) => (
                <tr key={worker.id} className="border-t border-slate-100 dark:border-slate-800">
                  <td className="py-1 pr-3 font-mono text-xs">{worker.id}</td>
                  <td className="py-1 pr-3">{worker.role}</td>
                  <td className="py-1 pr-3">{worker.host || "—"}</td>
                  <td className="py-1 pr-3">{worker.lastSeen ? `${formatAge(worker.lastSeen)} ago` : "—"}</td>
                  <td className="py-1 pr-3">{worker.alive === null ? "—" : worker.alive ? "alive" : "silent"}</td>
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
              <li key={`${lease.project}-${lease.owner}`}>
                Project {lease.project}: held by <span className="font-mono text-xs">{lease.owner}</span>
                {lease.expiresAt ? `, until ${formatTime(lease.expiresAt)}` : ""}
              </li>
            ))}
          </ul>
        )}
      </Card>
      <Card title="Last errors">
        {status.lastErrors.length === 0 ? (
          <p className="text-sm text-slate-500">No recent errors.</p>
        ) : (
          <ul className="flex flex-col gap-1 text-sm">
            {status.lastErrors.map((error, index) => (
              <li key={`${error.at}-${index}`}>
                <span className="text-slate-500">{formatTime(error.at)}</span> {error.source ? <span className="font-medium">{error.source}: </span> : null}
                {error.message}
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}
