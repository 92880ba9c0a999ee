/** The queue's merge requests, grouped by state, with the priority controls when allowed. */
import type { KeyboardEvent } from "react";
import { formatAge, formatDuration } from "../components/format";
import { GROUPS, type MergeRequest, ORDERED_STATES, landingOrder, priorityToMove } from "./api";

export interface GroupsProps {
  items: MergeRequest[];
  canSetPriority: boolean;
  /** Set a new priority (the page sends it and reports refusals). */
  onPriority: (mr: MergeRequest, priority: number) => void;
  busyId: number | null;
  /** Show one MR's history. */
  onDetails: (mr: MergeRequest) => void;
  now?: number;
}

function timeInQueue(mr: MergeRequest, now: number): string {
  if (!mr.recognised_at) return "—";
  const end = mr.merged_at ?? mr.rejected_at;
  if (end) return formatDuration((Date.parse(end) - Date.parse(mr.recognised_at)) / 1000);
  return formatAge(mr.recognised_at, now);
}

const PIPELINE_STYLE: Record<string, string> = {
  success: "text-emerald-700 dark:text-emerald-400",
  failed: "text-red-700 dark:text-red-400",
  running: "text-sky-700 dark:text-sky-400",
  pending: "text-amber-700 dark:text-amber-400",
};

function Pipeline({ mr }: { mr: MergeRequest }) {
  const status = mr.pipeline_status ?? "none";
  const label = <span className={PIPELINE_STYLE[status] ?? ""}>{status}</span>;
  return mr.pipeline_url ? (
    <a href={mr.pipeline_url} target="_blank" rel="noopener noreferrer" className="underline" aria-label={`Pipeline of !${mr.iid}: ${status}`}>
      {label}
    </a>
  ) : (
    label
  );
}

export function MergeRequestGroups({ items, canSetPriority, onPriority, onDetails, busyId, now = Date.now() }: GroupsProps) {
  return (
    <div className="flex flex-col gap-4">
      {GROUPS.map((group) => {
        const members = items.filter((mr) => mr.queue_state === group.state).sort(landingOrder);
        const ordered = ORDERED_STATES.has(group.state);
        const headingId = `group-${group.state}`;
        return (
          <section key={group.state} aria-labelledby={headingId} className="rounded-lg border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
            <h2 id={headingId} className={`px-4 py-2 text-base font-semibold ${members.length ? "border-b border-slate-200 dark:border-slate-800" : "inline-block"}`}>
              {group.title} <span className="text-sm font-normal text-slate-500">({members.length})</span>
            </h2>
            {members.length === 0 ? (
              <p className="inline text-sm text-slate-500 dark:text-slate-400">{group.empty}</p>
            ) : (
              <div className="overflow-x-auto">
                <table className="w-full text-left text-sm">
                  <caption className="sr-only">{group.title}</caption>
                  <thead className="text-xs text-slate-500 uppercase dark:text-slate-400">
                    <tr>
                      {ordered ? <th scope="col" className="px-4 py-2">#</th> : null}
                      <th scope="col" className="px-4 py-2">Merge request</th>
                      <th scope="col" className="px-4 py-2">Author</th>
                      <th scope="col" className="px-4 py-2">Priority</th>
                      <th scope="col" className="px-4 py-2">Strikes</th>
                      <th scope="col" className="px-4 py-2">Pipeline</th>
                      <th scope="col" className="px-4 py-2">In queue</th>
                      {ordered && canSetPriority ? <th scope="col" className="px-4 py-2">Order</th> : null}
                      <th scope="col" className="px-4 py-2"><span className="sr-only">History</span></th>
                    </tr>
                  </thead>
                  <tbody>
                    {members.map((mr, index) => (
                      <Row key={mr.id} mr={mr} index={index} ordered={ordered} members={members} canSetPriority={canSetPriority} onPriority={onPriority} onDetails={onDetails} busy={busyId === mr.id} now={now} />
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        );
      })}
    </div>
  );
}

interface RowProps {
  mr: MergeRequest;
  index: number;
  ordered: boolean;
  members: MergeRequest[];
  canSetPriority: boolean;
  onPriority: (mr: MergeRequest, priority: number) => void;
  onDetails: (mr: MergeRequest) => void;
  busy: boolean;
  now: number;
}

function Row({ mr, index, ordered, members, canSetPriority, onPriority, onDetails, busy, now }: RowProps) {
  const controls = ordered && canSetPriority;
  const up = controls ? priorityToMove(members, mr, -1) : null;
  const down = controls ? priorityToMove(members, mr, 1) : null;
  function onKey(event: KeyboardEvent) {
    // Alt+Arrow on a row moves it, like the buttons; plain arrows stay free for scrolling.
    if (!controls || !event.altKey || busy) return;
    if (event.key === "ArrowUp" && up !== null) {
      event.preventDefault();
      onPriority(mr, up);
    } else if (event.key === "ArrowDown" && down !== null) {
      event.preventDefault();
      onPriority(mr, down);
    }
  }
  return (
    <tr
      tabIndex={controls ? 0 : undefined}
      onKeyDown={onKey}
      aria-label={controls ? `!${mr.iid} ${mr.title}, place ${mr.position ?? index + 1}; Alt+Up or Alt+Down moves it` : undefined}
      className="border-t border-slate-100 align-top focus-visible:outline-2 focus-visible:outline-indigo-500 dark:border-slate-800"
    >
      {ordered ? <td className="px-4 py-2 tabular-nums">{mr.position ?? index + 1}</td> : null}
      <td className="px-4 py-2">
        {mr.web_url ? (
          <a href={mr.web_url} target="_blank" rel="noopener noreferrer" className="font-medium text-indigo-700 underline-offset-2 hover:underline dark:text-indigo-300">
            !{mr.iid} {mr.title}
          </a>
        ) : (
          <span className="font-medium">
            !{mr.iid} {mr.title}
          </span>
        )}
        <div className="text-xs text-slate-500 dark:text-slate-400">
          {mr.source_branch ? `${mr.source_branch} → ` : "→ "}
          {mr.target_branch}
          {mr.batch_id !== null ? ` · batch #${mr.batch_id}` : ""}
        </div>
        {mr.reasons.length > 0 ? (
          <ul aria-label={`Reasons for !${mr.iid}`} className="mt-1 list-disc pl-5 text-xs text-red-700 dark:text-red-400">
            {mr.reasons.map((reason) => (
              <li key={reason}>{reason}</li>
            ))}
          </ul>
        ) : null}
      </td>
      <td className="px-4 py-2">{mr.author_username ?? "—"}</td>
      <td className="px-4 py-2 tabular-nums">{mr.priority}</td>
      <td className="px-4 py-2 tabular-nums">{mr.strikes}</td>
      <td className="px-4 py-2">
        <Pipeline mr={mr} />
      </td>
      <td className="px-4 py-2 whitespace-nowrap">{timeInQueue(mr, now)}</td>
      {controls ? (
        <td className="px-4 py-2 whitespace-nowrap">
          <button
            type="button"
            aria-label={`Raise priority of !${mr.iid}`}
            title={up === null ? "Already first" : `Set priority ${up}`}
            disabled={busy || up === null}
            onClick={() => up !== null && onPriority(mr, up)}
            className="rounded border border-slate-300 px-2 py-0.5 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-indigo-500 disabled:opacity-40 dark:border-slate-600 dark:hover:bg-slate-800"
          >
            <span aria-hidden="true">▲</span>
          </button>{" "}
          <button
            type="button"
            aria-label={`Lower priority of !${mr.iid}`}
            title={down === null ? "Already last" : `Set priority ${down}`}
            disabled={busy || down === null}
            onClick={() => down !== null && onPriority(mr, down)}
            className="rounded border border-slate-300 px-2 py-0.5 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-indigo-500 disabled:opacity-40 dark:border-slate-600 dark:hover:bg-slate-800"
          >
            <span aria-hidden="true">▼</span>
          </button>
        </td>
      ) : null}
      <td className="px-4 py-2">
        <button
          type="button"
          aria-label={`History of !${mr.iid}`}
          onClick={() => onDetails(mr)}
          className="rounded px-1 text-indigo-700 underline-offset-2 hover:underline focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-indigo-300"
        >
          History
        </button>
      </td>
    </tr>
  );
}
