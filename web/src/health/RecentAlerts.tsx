/** The newest alert incidents (administrators): open ones first in mind, with what was sent. */
import { type Column, DataTable } from "../components/DataTable";
import { formatTime } from "../components/format";
import { LoadState } from "../components/LoadState";
import { Card, Notice } from "../components/Page";
import type { Query } from "../components/useQuery";
import { type AlertIncident, describeDeliveries, type RecentAlerts as Recent } from "./alerts";

const COLUMNS: Column<AlertIncident>[] = [
  {
    header: "State",
    className: (incident) => (incident.resolved_at ? "text-emerald-700 dark:text-emerald-400" : "text-red-700 dark:text-red-400"),
    cell: (incident) => (incident.resolved_at ? "resolved" : "firing"),
  },
  {
    header: "Alert",
    cell: (incident) => (
      <div>
        <div className="font-medium">{incident.subject}</div>
        <div className="text-xs text-slate-500">{incident.message}</div>
      </div>
    ),
  },
  { header: "Since", cell: (incident) => formatTime(incident.opened_at) },
  { header: "Resolved", cell: (incident) => (incident.resolved_at ? formatTime(incident.resolved_at) : "—") },
  { header: "Notifications", className: "text-xs", cell: (incident) => describeDeliveries(incident.deliveries) },
];

export function RecentAlerts({ alerts }: { alerts: Query<Recent> }) {
  return (
    <Card title="Recent alerts">
      <LoadState data={alerts.data} error={alerts.error} loading="Reading the alerts…">
        {(found) => (
          <>
            <p className="mb-2 text-sm">{found.open === 0 ? "Nothing is firing." : `${found.open} alert${found.open === 1 ? " is" : "s are"} firing.`}</p>
            <DataTable
              caption="Recent alerts"
              columns={COLUMNS}
              rows={found.incidents}
              rowKey={(incident) => String(incident.id)}
              empty={<Notice title="No alert so far.">Alerts appear here when a rule fires: a silent process, a lapsed lease, a stuck merge request, GitLab or a webhook failing, a token about to expire.</Notice>}
            />
          </>
        )}
      </LoadState>
    </Card>
  );
}
