/**
 * The shape of `GET /api/health/status` (src/merge_assist/health/schemas.py). `gitlab` is not
 * in it yet: shown when a server reports it, left out otherwise.
 */

export interface ProcessStatus {
  worker_id: string;
  role: string;
  hostname: string;
  pid: number;
  started_at: string;
  last_seen: string;
  stopped_at: string | null;
  /** Seen within three heartbeat intervals and not stopped. */
  alive: boolean;
}

export interface LeaseStatus {
  project_id: number;
  project_path: string | null;
  owner: string;
  token: number;
  expires_at: string;
  held: boolean;
}

export interface QueueDepth {
  project_id: number;
  project_path: string | null;
  target_branch: string;
  states: Record<string, number>;
  total: number;
}

export interface InboxBacklog {
  unprocessed: number;
  oldest_received_at: string | null;
  by_project: Record<string, number>;
}

export interface ErrorEntry {
  id: number;
  project_id: number | null;
  target_branch: string | null;
  iid: number | null;
  message: string;
  created_at: string;
}

export interface HealthStatus {
  checked_at: string;
  workers: ProcessStatus[];
  leases: LeaseStatus[];
  queues: QueueDepth[];
  inbox: InboxBacklog;
  last_errors: ErrorEntry[];
  gitlab?: { reachable: boolean; detail?: string | null };
}

/** "waiting 2, ready 1": the non-zero states of a queue, in the order the queue page uses. */
export function describeStates(states: Record<string, number>): string {
  const order = ["ready", "merging", "in_batch", "waiting", "not_ready"];
  const keys = [...order.filter((key) => key in states), ...Object.keys(states).filter((key) => !order.includes(key))];
  return keys
    .filter((key) => (states[key] ?? 0) > 0)
    .map((key) => `${key.replace("_", " ")} ${states[key]}`)
    .join(", ");
}

/** One row of `GET /api/health/webhooks`: whether GitLab still sends a project's events. */
export interface WebhookHealth {
  project_id: number;
  project_path: string | null;
  hook_id: number | null;
  /** GitLab's alert_status of our hook; missing: none or deleted; unknown: GitLab not asked. */
  state: "executable" | "temporarily_disabled" | "disabled" | "missing" | "unknown";
  disabled_until: string | null;
  /** What is wrong and what to do; null when healthy. */
  problem: string | null;
}
