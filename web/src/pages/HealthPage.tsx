import { useEffect, useState } from "react";
import { ApiError } from "../api/client";
import { useSession } from "../auth/AuthContext";
import { EmptyState } from "../components/EmptyState";

interface Readiness {
  status: string;
  database: string;
}

type Check = { state: "loading" } | { state: "ready"; readiness: Readiness } | { state: "failed"; reason: string };

/** What the server says about itself now; heartbeats of the other processes come later. */
export function HealthPage() {
  const { api } = useSession().auth;
  const [check, setCheck] = useState<Check>({ state: "loading" });

  useEffect(() => {
    let cancelled = false;
    api
      .get<Readiness>("/api/health/ready", { anonymous: true })
      .then((readiness) => !cancelled && setCheck({ state: "ready", readiness }))
      .catch((error: unknown) => {
        const reason = error instanceof ApiError ? error.detail : "The check failed.";
        if (!cancelled) setCheck({ state: "failed", reason });
      });
    return () => {
      cancelled = true;
    };
  }, [api]);

  return (
    <EmptyState
      title="Health"
      summary="Only the API's own checks are available so far."
      upcoming={[
        "Heartbeats of the worker, listener and watcher processes.",
        "GitLab reachability, queue backlog and alert history (SMTP, Slack).",
      ]}
    >
      <dl className="mb-6 grid grid-cols-[max-content_1fr] gap-x-6 gap-y-2 rounded-lg border border-slate-200 bg-white p-4 text-sm dark:border-slate-800 dark:bg-slate-900">
        <dt className="font-medium">API</dt>
        <dd>
          {check.state === "loading" ? "checking…" : null}
          {check.state === "ready" ? check.readiness.status : null}
          {check.state === "failed" ? `not ready: ${check.reason}` : null}
        </dd>
        <dt className="font-medium">Database</dt>
        <dd>{check.state === "ready" ? check.readiness.database : "—"}</dd>
      </dl>
    </EmptyState>
  );
}
