/** One MR's story in the queue (`GET /api/mrs/{id}`): recognised, struck, batched, merged... */
import { useEffect, useState } from "react";
import { useSession } from "../auth/AuthContext";
import { Dialog } from "../components/Dialog";
import { formatTime, sentenceOf } from "../components/format";
import { Notice } from "../components/Page";
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

export function MergeRequestHistory({ mr, onClose }: { mr: MergeRequest; onClose: () => void }) {
  const { auth } = useSession();
  const [detail, setDetail] = useState<MergeRequestDetail | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    auth.api
      .get<MergeRequestDetail>(`/api/mrs/${mr.id}`)
      .then((found) => !cancelled && setDetail(found))
      .catch((failure: unknown) => !cancelled && setError(sentenceOf(failure, "The history could not be loaded.")));
    return () => {
      cancelled = true;
    };
  }, [auth, mr.id]);

  return (
    <Dialog title={`!${mr.iid} ${mr.title}`} onClose={onClose} wide>
      {error ? <Notice tone="error" title={error} /> : null}
      {!detail && !error ? <p role="status">Loading the history…</p> : null}
      {detail ? (
        detail.history.length === 0 ? (
          <p className="text-sm text-slate-500">Nothing has happened to this merge request in the queue yet.</p>
        ) : (
          <ol aria-label="Queue history" className="flex flex-col gap-2 text-sm">
            {detail.history.map((entry) => (
              <li key={entry.id} className="flex gap-3">
                <time dateTime={entry.created_at} className="w-40 shrink-0 text-slate-500">{formatTime(entry.created_at)}</time>
                <span className="font-medium">{eventName(entry.event)}</span>
                <span>{detailText(entry.details)}</span>
                {entry.iids.length > 1 ? <span className="text-slate-500">with {entry.iids.filter((iid) => iid !== mr.iid).map((iid) => `!${iid}`).join(", ")}</span> : null}
              </li>
            ))}
          </ol>
        )
      ) : null}
    </Dialog>
  );
}
