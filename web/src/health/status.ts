/**
 * `GET /api/health/status` read tolerantly: the endpoint is newer than this page, so every part
 * is optional and unknown shapes are skipped rather than breaking the page.
 */

export interface WorkerStatus {
  id: string;
  role: string;
  host: string;
  lastSeen: string | null;
  alive: boolean | null;
}

export interface LeaseStatus {
  project: string;
  owner: string;
  expiresAt: string | null;
}

export interface QueueDepth {
  label: string;
  count: number;
}

export interface ErrorLine {
  at: string | null;
  source: string;
  message: string;
}

export interface HealthStatus {
  overall: string | null;
  gitlab: { reachable: boolean | null; detail: string | null };
  workers: WorkerStatus[];
  leases: LeaseStatus[];
  queueDepth: QueueDepth[];
  inboxBacklog: number | null;
  lastErrors: ErrorLine[];
}

type Bag = Record<string, unknown>;

const isBag = (value: unknown): value is Bag => value !== null && typeof value === "object" && !Array.isArray(value);
const text = (value: unknown): string | null => (typeof value === "string" ? value : typeof value === "number" ? String(value) : null);
const first = (bag: Bag, ...keys: string[]): unknown => keys.map((key) => bag[key]).find((value) => value !== undefined && value !== null);
const list = (value: unknown): Bag[] => (Array.isArray(value) ? value.filter(isBag) : isBag(value) && Array.isArray(value.items) ? value.items.filter(isBag) : []);

function gitlab(value: unknown): HealthStatus["gitlab"] {
  if (typeof value === "boolean") return { reachable: value, detail: null };
  if (!isBag(value)) return { reachable: null, detail: null };
  const reachable = first(value, "reachable", "ok", "healthy");
  return {
    reachable: typeof reachable === "boolean" ? reachable : text(value.status) === "ok" ? true : null,
    detail: text(first(value, "detail", "error", "message", "url")),
  };
}

function depth(value: unknown): QueueDepth[] {
  if (typeof value === "number") return [{ label: "All projects", count: value }];
  if (isBag(value) && !Array.isArray(value.items)) {
    return Object.entries(value).filter(([, count]) => typeof count === "number").map(([label, count]) => ({ label, count: count as number }));
  }
  return list(value).map((item) => ({
    label: [text(first(item, "project", "path_with_namespace", "project_id")), text(item.target_branch)].filter(Boolean).join(" → ") || "queue",
    count: Number(first(item, "count", "depth", "waiting", "size") ?? 0),
  }));
}

export function readStatus(body: unknown): HealthStatus {
  const bag = isBag(body) ? body : {};
  const backlog = first(bag, "inbox_backlog", "inbox");
  return {
    overall: text(first(bag, "status", "overall")),
    gitlab: gitlab(first(bag, "gitlab", "gitlab_reachable")),
    workers: list(bag.workers).map((item) => {
      const alive = first(item, "alive", "is_alive", "healthy");
      return {
        id: text(first(item, "worker_id", "id", "name")) ?? "worker",
        role: text(first(item, "role", "kind")) ?? "",
        host: [text(item.hostname), text(item.pid)].filter(Boolean).join(" pid "),
        lastSeen: text(first(item, "last_seen", "last_heartbeat_at", "last_seen_at")),
        alive: typeof alive === "boolean" ? alive : null,
      };
    }),
    leases: list(bag.leases).map((item) => ({
      project: text(first(item, "project", "path_with_namespace", "project_id")) ?? "?",
      owner: text(first(item, "owner", "worker_id")) ?? "?",
      expiresAt: text(item.expires_at),
    })),
    queueDepth: depth(first(bag, "queue_depth", "queue")),
    inboxBacklog: typeof backlog === "number" ? backlog : isBag(backlog) && typeof backlog.pending === "number" ? backlog.pending : null,
    lastErrors: list(first(bag, "last_errors", "errors")).map((item) => ({
      at: text(first(item, "at", "created_at", "occurred_at", "time")),
      source: text(first(item, "source", "component", "project", "worker_id")) ?? "",
      message: text(first(item, "message", "detail", "error")) ?? JSON.stringify(item),
    })),
  };
}
