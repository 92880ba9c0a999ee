/** The latest batches of the project: members, what landed, culprits and the batch pipeline. */
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

export function BatchesPanel({ batches }: { batches: Batch[] }) {
  return (
    <section aria-labelledby="batches-title" className="rounded-lg border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900">
      <h2 id="batches-title" className="mb-3 text-base font-semibold">
        Batches
      </h2>
      {batches.length === 0 ? (
        <p className="text-sm text-slate-500 dark:text-slate-400">
          No batches yet. With the batch strategy (Administration → project settings), ready merge requests are tested together and their batches appear here.
        </p>
      ) : (
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <thead className="text-xs text-slate-500 uppercase dark:text-slate-400">
              <tr>
                <th scope="col" className="py-1 pr-3">Batch</th>
                <th scope="col" className="py-1 pr-3">Status</th>
                <th scope="col" className="py-1 pr-3">Members</th>
                <th scope="col" className="py-1 pr-3">Landed</th>
                <th scope="col" className="py-1 pr-3">Culprits</th>
                <th scope="col" className="py-1 pr-3">Pipeline</th>
                <th scope="col" className="py-1 pr-3">Started</th>
              </tr>
            </thead>
            <tbody>
              {batches.map((batch) => (
                <tr key={batch.id} className="border-t border-slate-100 dark:border-slate-800">
                  <td className="py-1 pr-3">
                    {batch.batch_mr_url ? (
                      <a href={batch.batch_mr_url} target="_blank" rel="noopener noreferrer" className="text-indigo-700 underline dark:text-indigo-300">
                        #{batch.id}
                      </a>
                    ) : (
                      `#${batch.id}`
                    )}
                    {batch.probe ? " (bisection probe)" : ""} → {batch.target_branch}
                  </td>
                  <td className="py-1 pr-3">
                    <span className={`rounded px-1.5 py-0.5 text-xs ${STATUS_STYLE[batch.status] ?? "bg-sky-100 text-sky-800 dark:bg-sky-950 dark:text-sky-300"}`}>{batch.status}</span>
                  </td>
                  <td className="py-1 pr-3">{iids(batch.member_iids)}</td>
                  <td className="py-1 pr-3">{iids(batch.landed_iids)}</td>
                  <td className="py-1 pr-3">{iids(batch.culprit_iids)}</td>
                  <td className="py-1 pr-3">{batch.pipeline_status ?? "—"}</td>
                  <td className="py-1 pr-3 whitespace-nowrap">{formatTime(batch.started_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
