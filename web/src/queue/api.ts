/** The shapes of the merge queue's API (src/merge_assist/merging/schemas.py) and its groups. */

export type QueueState = "waiting" | "ready" | "not_ready" | "merging" | "in_batch" | "merged" | "rejected" | "removed";

export interface MergeRequest {
  id: number;
  project_id: number;
  iid: number;
  target_branch: string;
  source_branch: string | null;
  title: string;
  author_username: string | null;
  web_url: string | null;
  queue_state: QueueState;
  priority: number;
  strikes: number;
  head_sha: string | null;
  pipeline_status: string | null;
  pipeline_url: string | null;
  reasons: string[];
  batch_id: number | null;
  recognised_at: string | null;
  merged_at: string | null;
  rejected_at: string | null;
  updated_at: string;
  position: number | null;
}

export interface HistoryEntry {
  id: number;
  target_branch: string;
  event: string;
  iids: number[];
  details: Record<string, unknown>;
  created_at: string;
}

/** `GET /api/mrs/{id}`: the MR and the queue's history entries naming it, oldest first. */
export interface MergeRequestDetail extends MergeRequest {
  history: HistoryEntry[];
}

export interface MergeRequestList {
  items: MergeRequest[];
  total: number;
  target_branches: string[];
  can_set_priority: boolean;
  priority_cap: number;
}

export type BatchStatus = "building" | "testing" | "landing" | "landed" | "failed" | "aborted";

export interface Batch {
  id: number;
  project_id: number;
  target_branch: string;
  attempt_id: number;
  run_id: number | null;
  probe: boolean;
  status: BatchStatus;
  member_iids: number[];
  landed_iids: number[];
  culprit_iids: number[];
  branch: string | null;
  batch_mr_iid: number | null;
  batch_mr_url: string | null;
  base_sha: string | null;
  tested_sha: string | null;
  pipeline_id: number | null;
  pipeline_status: string | null;
  landed_sha: string | null;
  started_at: string;
  finished_at: string | null;
}

export interface QueueStats {
  window_hours: number;
  merged_per_hour: { hour: string; merged: number }[];
  time_to_merge: { count: number; median_seconds: number | null; p95_seconds: number | null };
  /** Grouped by kind (`reason` says it in words), with the raw messages behind each. */
  failures_by_reason: { reason: string; kind?: string; count: number; messages?: { message: string; count: number }[] }[];
}

export const MAX_PRIORITY = 100;

/** The groups of the queue page, in the order shown (removed MRs are not shown). */
export const GROUPS: { state: QueueState; title: string; empty: string }[] = [
  { state: "ready", title: "Ready to merge", empty: "Nothing is ready: merge requests come here once their pipeline passed and they are approved." },
  { state: "merging", title: "Merging", empty: "Nothing is being merged right now." },
  { state: "in_batch", title: "In a batch", empty: "No batch is being tested." },
  { state: "waiting", title: "Waiting for pipeline or checks", empty: "No merge request is waiting for its pipeline." },
  { state: "not_ready", title: "Not ready", empty: "No merge request is held back." },
  { state: "rejected", title: "Rejected", empty: "Nothing was rejected." },
  { state: "merged", title: "Merged", empty: "Nothing merged yet." },
];

/** States whose MRs are in the landing order (and whose priority can change). */
export const ORDERED_STATES: ReadonlySet<QueueState> = new Set(["ready", "waiting"]);

/** Landing order: priority first (higher lands first), then the time recognised. */
export function landingOrder(a: MergeRequest, b: MergeRequest): number {
  if (a.position !== null && b.position !== null) return a.position - b.position;
  if (a.priority !== b.priority) return b.priority - a.priority;
  return (a.recognised_at ?? "").localeCompare(b.recognised_at ?? "") || a.iid - b.iid;
}

/**
 * The priority that moves `mr` one place up (`-1`) or down (`+1`) in `ordered`, or null when it
 * cannot move that way. Equal priorities keep the time order, so passing a neighbour needs one
 * more (or one less) than its priority.
 */
export function priorityToMove(ordered: MergeRequest[], mr: MergeRequest, direction: -1 | 1): number | null {
  const index = ordered.findIndex((item) => item.id === mr.id);
  if (index < 0) return null;
  const neighbour = ordered[index + direction];
  if (direction === -1) {
    const target = neighbour ? Math.max(mr.priority, neighbour.priority + 1) : mr.priority + 1;
    return target > MAX_PRIORITY || target === mr.priority ? null : target;
  }
  // Below a neighbour at 0 the best is 0 too: among equals the older MR lands first.
  const target = neighbour ? Math.min(mr.priority, Math.max(0, neighbour.priority - 1)) : mr.priority - 1;
  return target < 0 || target === mr.priority ? null : target;
}

/** Put a changed MR into the list (or take it out when it left the shown branch). */
export function upsert(items: MergeRequest[], mr: MergeRequest, branch: string | null): MergeRequest[] {
  const rest = items.filter((item) => item.id !== mr.id);
  if (branch !== null && mr.target_branch !== branch) return rest;
  return [...rest, mr];
}
