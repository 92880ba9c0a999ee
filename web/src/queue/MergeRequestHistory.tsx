/** One MR's story in the queue (`GET /api/mrs/{id}`): recognised, struck, batched, merged... */
import { useSession } from "../auth/AuthContext";
import { Dialog } from "../components/Dialog";
import { formatTime } from "../components/format";
import { LoadState } from "../components/LoadState";
import { useQuery } from "../components/useQuery";
import type { MergeRequest, MergeRequestDetail } from "./api";

/** "pipeline_failed" → "pipeline failed". */
function eventName(event: string): string {
  return event.replace(/[._]/g, " ");
}

function detailText(details: Record<string, unknown>): string {
  const reason = details.reason ?? details.reasons ?? details.detail;
  if (typeof reason === "string") return reason;
  if (Array.isArray(reason)) return reason.map(String).join("; ");
  return "";
}

export function MergeRequestHistory({ mr, onClose, onExplain }: { mr: MergeRequest; onClose: () => void; onExplain: (mr: MergeRequest) => void }) {
  const { auth } = useSession();
  const detail = useQuery(() => auth.api.get<MergeRequestDetail>(`/api/mrs/${mr.id}`), [auth, mr.id], "The history could not be loaded.");

  return (
    <Dialog title={`!${mr.iid} ${mr.title}`} onClose={onClose} wide>
      <p className="mb-3">
        <button type="button" onClick={() => onExplain(mr)} className="rounded border border-slate-300 px-2 py-0.5 text-sm hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:border-slate-600 dark:hover:bg-slate-800">
          Explain why it is not merging
        </button>
      </p>
      <LoadState
        data={detail.data}
        error={detail.error}
        loading="Loading the history…"
        empty="Nothing has happened to this merge request in the queue yet."
        quietEmpty
        isEmpty={(found) => found.history.length === 0}
      >
        {(found) => (
          <ol aria-label="Queue history" className="flex flex-col gap-2 text-sm">
            {found.history.map((entry) => (
              <li key={entry.id} className="flex gap-3">
                <time dateTime={entry.created_at} className="w-40 shrink-0 text-slate-500">{formatTime(entry.created_at)}</time>
                <span className="font-medium">{eventName(entry.event)}</span>
                <span>{detailText(entry.details)}</span>
                {entry.iids.length > 1 ? <span className="text-slate-500">with {entry.iids.filter((iid) => iid !== mr.iid).map((iid) => `!${iid}`).join(", ")}</span> : null}
              </li>
            ))}
          </ol>
        )}
      </LoadState>
    </Dialog>
  );
}
