/** "Why isn't my MR merging?" (`GET /api/mrs/{id}/explanation`): the plain diagnosis in a dialog. */
import { useSession } from "../auth/AuthContext";
import { Dialog } from "../components/Dialog";
import { formatTime } from "../components/format";
import { LoadState } from "../components/LoadState";
import { useQuery } from "../components/useQuery";
import type { MergeRequest } from "./api";
import type { AiSummary, ExplainedBatch, Explanation, FailingJob } from "./explanation";

const HEADING = "text-sm font-semibold";

export function MergeRequestExplanation({ mr, onClose }: { mr: MergeRequest; onClose: () => void }) {
  const { auth } = useSession();
  const found = useQuery(() => auth.api.get<Explanation>(`/api/mrs/${mr.id}/explanation`), [auth, mr.id], "The explanation could not be loaded.");

  return (
    <Dialog title={`Why isn't !${mr.iid} merging?`} onClose={onClose} wide>
      <LoadState data={found.data} error={found.error} loading="Looking at the merge request…" onRetry={found.reload}>
        {(explanation) => <ExplanationBody explanation={explanation} />}
      </LoadState>
    </Dialog>
  );
}

function ExplanationBody({ explanation }: { explanation: Explanation }) {
  return (
    <div className="flex flex-col gap-4 text-sm">
      <p>
        <span className="font-medium">{explanation.summary}</span>
        {explanation.since ? <span className="text-slate-500"> Since {formatTime(explanation.since)}.</span> : null}
      </p>
      <section aria-label="Next step" className="rounded border border-indigo-200 bg-indigo-50 p-3 dark:border-indigo-800 dark:bg-indigo-950">
        <h3 className={HEADING}>What to do next</h3>
        <p>{explanation.next_step}</p>
      </section>
      {explanation.ai_summary ? <AiPart summary={explanation.ai_summary} /> : null}
      {explanation.reasons.length > 0 ? (
        <section aria-label="Reasons">
          <h3 className={HEADING}>Reasons</h3>
          <ul className="list-disc pl-5">
            {explanation.reasons.map((reason) => (
              <li key={`${reason.code}-${reason.detail}`}>
                {reason.text} <span className="text-slate-500">({reason.detail}{reason.source === "gitlab" ? ", seen on GitLab now" : ""})</span>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {explanation.waiting_for.length > 0 ? <p>Waiting for: {explanation.waiting_for.join(" ")}</p> : null}
      <section aria-label="Strikes">
        <h3 className={HEADING}>
          Strikes: {explanation.strikes} of {explanation.max_strikes}
        </h3>
        <ul className="list-disc pl-5">
          {explanation.strike_history.map((strike) => (
            <li key={strike.at}>
              <time dateTime={strike.at} className="text-slate-500">{formatTime(strike.at)}</time> {strike.text}
            </li>
          ))}
        </ul>
      </section>
      {explanation.batch ? <BatchPart batch={explanation.batch} /> : null}
      {explanation.failing_jobs.map((job) => <JobPart key={job.id} job={job} />)}
      {explanation.notes.map((note) => (
        <p key={note} className="text-amber-700 dark:text-amber-400">{note}</p>
      ))}
    </div>
  );
}

/** The AI's summary, marked as AI-generated; when there is none, why (only when it was tried or
 * is set up: "not set up" and "not opted in" say nothing worth a line). */
function AiPart({ summary }: { summary: AiSummary }) {
  if (summary.text) {
    return (
      <section aria-label="AI summary" className="rounded border border-violet-200 bg-violet-50 p-3 dark:border-violet-800 dark:bg-violet-950">
        <h3 className={HEADING}>
          AI summary <span className="ml-1 rounded bg-violet-200 px-1.5 py-0.5 text-xs font-medium text-violet-900 dark:bg-violet-800 dark:text-violet-100">AI-generated</span>
        </h3>
        <p className="whitespace-pre-line">{summary.text}</p>
        <p className="mt-1 text-xs text-slate-500 dark:text-slate-400">
          Advisory, by {summary.model ?? "the configured model"}; it may be wrong. The diagnosis above and below is the queue's own.
        </p>
      </section>
    );
  }
  if (summary.outcome === "disabled" || summary.outcome === "not_opted_in" || !summary.note) return null;
  return <p className="text-slate-500 dark:text-slate-400">{summary.note}</p>;
}

function BatchPart({ batch }: { batch: ExplainedBatch }) {
  const members = batch.members.map((iid) => `!${iid}`).join(", ");
  return (
    <section aria-label="Batch">
      <h3 className={HEADING}>Batch #{batch.id} ({batch.status})</h3>
      <p>
        With {members}. {batch.is_culprit ? "The bisection found this merge request to be the culprit." : "This merge request was not the culprit."}
      </p>
    </section>
  );
}

function JobPart({ job }: { job: FailingJob }) {
  return (
    <section aria-label={`Failed job ${job.name}`}>
      <h3 className={HEADING}>
        Failed job{" "}
        {job.web_url ? (
          <a href={job.web_url} target="_blank" rel="noopener noreferrer" className="underline">
            {job.name}
          </a>
        ) : (
          job.name
        )}
      </h3>
      <pre className="mt-1 overflow-x-auto rounded bg-slate-900 p-2 text-xs text-slate-100">{job.excerpt.join("\n")}</pre>
    </section>
  );
}
