/** The "GitLab webhooks" card: our hook of each project, read back from GitLab. */
import { Card } from "../components/Page";
import type { Query } from "../components/useQuery";
import type { WebhookHealth } from "./status";

const STATE_LABELS: Record<WebhookHealth["state"], string> = {
  executable: "sending",
  temporarily_disabled: "disabled for a while",
  disabled: "disabled",
  missing: "missing",
  unknown: "unknown",
};

export function WebhooksCard({ hooks }: { hooks: Query<WebhookHealth[]> }) {
  if (hooks.errorStatus === 404) return null; // an older server: nothing to show
  return (
    <Card title="GitLab webhooks">
      {hooks.error ? (
        <p className="text-sm text-red-700 dark:text-red-400">{hooks.error}</p>
      ) : hooks.data === null ? (
        <p className="text-sm text-slate-500">Asking GitLab…</p>
      ) : hooks.data.length === 0 ? (
        <p className="text-sm text-slate-500">No project takes webhooks.</p>
      ) : (
        <ul className="flex flex-col gap-1 text-sm">
          {hooks.data.map((hook) => (
            <li key={hook.project_id}>
              <span className="font-medium">{hook.project_path ?? `project ${hook.project_id}`}</span>:{" "}
              <span className={hook.problem ? "text-red-700 dark:text-red-400" : "text-emerald-700 dark:text-emerald-400"}>{STATE_LABELS[hook.state]}</span>
              {hook.problem ? <div className="text-xs text-slate-500">{hook.problem}</div> : null}
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
