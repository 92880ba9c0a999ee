/** The queue's merge requests, grouped by state, with the priority controls when allowed. */
import type { HTMLAttributes, KeyboardEvent } from "react";
import { type Column, DataTable } from "../components/DataTable";
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
  /** Explain why one MR is not merging. */
  onExplain: (mr: MergeRequest) => void;
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

export function MergeRequestGroups({ items, canSetPriority, onPriority, onDetails, onExplain, busyId, now = Date.now() }: GroupsProps) {
  return (
    <div className="flex flex-col gap-4">
      {GROUPS.map((group) => {
        const members = items.filter((mr) => mr.queue_state === group.state).sort(landingOrder);
        const ordered = ORDERED_STATES.has(group.state);
        const mover: Mover = { members, controls: ordered && canSetPriority, onPriority, busyId };
        const headingId = `group-${group.state}`;
        return (
          <section key={group.state} aria-labelledby={headingId} className="rounded-lg border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
            <h2 id={headingId} className={`px-4 py-2 text-base font-semibold ${members.length ? "border-b border-slate-200 dark:border-slate-800" : "inline-block"}`}>
              {group.title} <span className="text-sm font-normal text-slate-500">({members.length})</span>
            </h2>
            <DataTable
              caption={group.title}
              columns={mergeRequestColumns(ordered, mover, { onDetails, onExplain }, now)}
              rows={members}
              rowKey={(mr) => mr.id}
              cellPadding="px-4 py-2"
              rowClassName={() => "align-top focus-visible:outline-2 focus-visible:outline-indigo-500"}
              rowProps={(mr, index) => moveByKeyboard(mover, mr, index)}
              empty={<p className="inline text-sm text-slate-500 dark:text-slate-400">{group.empty}</p>}
            />
          </section>
        );
      })}
    </div>
  );
}

/** What moving an MR in its group needs: the group in landing order, and whether it may move. */
interface Mover {
  members: MergeRequest[];
  controls: boolean;
  onPriority: (mr: MergeRequest, priority: number) => void;
  busyId: number | null;
}

/** Alt+Arrow on a row moves it, like the buttons; plain arrows stay free for scrolling. */
function moveByKeyboard({ members, controls, onPriority, busyId }: Mover, mr: MergeRequest, index: number): HTMLAttributes<HTMLTableRowElement> {
  if (!controls) return {};
  function onKeyDown(event: KeyboardEvent) {
    if (!event.altKey || busyId === mr.id) return;
    const step = event.key === "ArrowUp" ? -1 : event.key === "ArrowDown" ? 1 : 0;
    const priority = step ? priorityToMove(members, mr, step) : null;
    if (priority === null) return;
    event.preventDefault();
    onPriority(mr, priority);
  }
  return { tabIndex: 0, onKeyDown, "aria-label": `!${mr.iid} ${mr.title}, place ${mr.position ?? index + 1}; Alt+Up or Alt+Down moves it` };
}

/** The dialogs a row opens. */
interface RowActions {
  onDetails: (mr: MergeRequest) => void;
  onExplain: (mr: MergeRequest) => void;
}

const LINK_BUTTON = "rounded px-1 text-indigo-700 underline-offset-2 hover:underline focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-indigo-300";

function mergeRequestColumns(ordered: boolean, mover: Mover, { onDetails, onExplain }: RowActions, now: number): (Column<MergeRequest> | false)[] {
  return [
    ordered && { header: "#", className: "tabular-nums", cell: (mr, index) => mr.position ?? index + 1 },
    { header: "Merge request", cell: (mr) => <MergeRequestCell mr={mr} /> },
    { header: "Author", cell: (mr) => mr.author_username ?? "—" },
    { header: "Priority", className: "tabular-nums", cell: (mr) => mr.priority },
    { header: "Strikes", className: "tabular-nums", cell: (mr) => mr.strikes },
    { header: "Pipeline", cell: (mr) => <Pipeline mr={mr} /> },
    { header: "In queue", className: "whitespace-nowrap", cell: (mr) => timeInQueue(mr, now) },
    mover.controls && { header: "Order", className: "whitespace-nowrap", cell: (mr) => <OrderButtons mr={mr} mover={mover} /> },
    {
      header: "Actions",
      hideHeader: true,
      className: "whitespace-nowrap",
      cell: (mr) => (
        <>
          <button type="button" aria-label={`Explain !${mr.iid}`} onClick={() => onExplain(mr)} className={LINK_BUTTON}>
            Explain
          </button>{" "}
          <button type="button" aria-label={`History of !${mr.iid}`} onClick={() => onDetails(mr)} className={LINK_BUTTON}>
            History
          </button>
        </>
      ),
    },
  ];
}

function MergeRequestCell({ mr }: { mr: MergeRequest }) {
  return (
    <>
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
    </>
  );
}

function OrderButtons({ mr, mover }: { mr: MergeRequest; mover: Mover }) {
  return (
    <>
      <OrderButton mr={mr} mover={mover} step={-1} />{" "}
      <OrderButton mr={mr} mover={mover} step={1} />
    </>
  );
}

/** Raise (step -1) or lower (step 1) an MR by one place, with the priority that takes. */
function OrderButton({ mr, mover, step }: { mr: MergeRequest; mover: Mover; step: -1 | 1 }) {
  const priority = priorityToMove(mover.members, mr, step);
  const raise = step < 0;
  return (
    <button
      type="button"
      aria-label={`${raise ? "Raise" : "Lower"} priority of !${mr.iid}`}
      title={priority === null ? (raise ? "Already first" : "Already last") : `Set priority ${priority}`}
      disabled={mover.busyId === mr.id || priority === null}
      onClick={() => priority !== null && mover.onPriority(mr, priority)}
      className="rounded border border-slate-300 px-2 py-0.5 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-indigo-500 disabled:opacity-40 dark:border-slate-600 dark:hover:bg-slate-800"
    >
      <span aria-hidden="true">{raise ? "▲" : "▼"}</span>
    </button>
  );
}
