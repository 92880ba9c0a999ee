/** The latest batches of the project: members, what landed, culprits and the batch pipeline. */
import { type Column, DataTable } from "../components/DataTable";
import { formatTime } from "../components/format";
import type { Batch } from "./api";

const STATUS_STYLE: Record<string, string> = {
  landed: "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300",
  failed: "bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-300",
  aborted: "bg-slate-200 text-slate-700 dark:bg-slate-800 dark:text-slate-300",
};

function iids(list: number[]): string {
  return list.length ? list.map((iid) => `!${iid}`).join(", ") : "—";
}

const BATCH_COLUMNS: Column<Batch>[] = [
  {
    header: "Batch",
    cell: (batch) => (
      <>
        {batch.batch_mr_url ? (
          <a href={batch.batch_mr_url} target="_blank" rel="noopener noreferrer" className="text-indigo-700 underline dark:text-indigo-300">
            #{batch.id}
          </a>
        ) : (
          `#${batch.id}`
        )}
        {batch.probe ? " (bisection probe)" : ""} → {batch.target_branch}
      </>
    ),
  },
  {
    header: "Status",
    cell: (batch) => (
      <span className={`rounded px-1.5 py-0.5 text-xs ${STATUS_STYLE[batch.status] ?? "bg-sky-100 text-sky-800 dark:bg-sky-950 dark:text-sky-300"}`}>{batch.status}</span>
    ),
  },
  { header: "Members", cell: (batch) => iids(batch.member_iids) },
  { header: "Landed", cell: (batch) => iids(batch.landed_iids) },
  { header: "Culprits", cell: (batch) => iids(batch.culprit_iids) },
  { header: "Pipeline", cell: (batch) => batch.pipeline_status ?? "—" },
  { header: "Started", className: "whitespace-nowrap", cell: (batch) => formatTime(batch.started_at) },
];

export function BatchesPanel({ batches }: { batches: Batch[] }) {
  return (
    <section aria-labelledby="batches-title" className="rounded-lg border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900">
      <h2 id="batches-title" className="mb-3 text-base font-semibold">
        Batches
      </h2>
      <DataTable
        caption="Batches"
        columns={BATCH_COLUMNS}
        rows={batches}
        rowKey={(batch) => batch.id}
        empty="No batches yet. With the batch strategy (Administration → project settings), ready merge requests are tested together and their batches appear here."
      />
    </section>
  );
}
