/**
 * Stand-ins for the APIs the dashboard was built against before they were on this server (the
 * merge queue's `/api/projects/{id}/mrs`, batches, stats and logs, and the vault): each answer
 * has exactly the shape of `merging/schemas.py` or `vault/schemas.py`. They let the e2e run show
 * those screens with data; when the endpoints land, drop `standIn()` and seed real data instead.
 */
import type { Page, Route } from "@playwright/test";

const now = Date.now();
const ago = (minutes: number) => new Date(now - minutes * 60_000).toISOString();

const PROJECT = {
  id: 1,
  gitlab_project_id: 42,
  path_with_namespace: "machining/cam-programs",
  name: "cam-programs",
  web_url: "https://gitlab.example.com/machining/cam-programs",
  default_branch: "main",
  is_active: true,
  created_at: ago(60 * 24 * 3),
  webhook_id: 7,
};

function mr(id: number, state: string, title: string, extra: Record<string, unknown> = {}) {
  return {
    id, project_id: 1, iid: 100 + id, target_branch: "main", source_branch: `feature/${id}`, title,
    author_username: ["grace", "linus", "ada", "ken"][id % 4], web_url: `${PROJECT.web_url}/-/merge_requests/${100 + id}`,
    queue_state: state, priority: 0, strikes: 0, head_sha: "3f2a9c1", pipeline_status: "success",
    pipeline_url: `${PROJECT.web_url}/-/pipelines/${900 + id}`, reasons: [], batch_id: null,
    recognised_at: ago(20 + id * 7), merged_at: null, rejected_at: null, updated_at: ago(2), position: null, ...extra,
  };
}

export const QUEUE = {
  items: [
    mr(1, "ready", "Faster roughing feed for op10", { position: 1, priority: 2 }),
    mr(2, "ready", "Tool table: add 6 mm ball end mill", { position: 2 }),
    mr(3, "waiting", "Probe cycle for the second fixture", { position: 3, pipeline_status: "running" }),
    mr(4, "in_batch", "Coolant on for the finishing pass", { batch_id: 12 }),
    mr(5, "not_ready", "Rewrite post-processor header", { strikes: 1, pipeline_status: "failed", reasons: ["The pipeline failed (job lint-gcode).", "The merge request needs one more approval."] }),
    mr(6, "rejected", "Experimental adaptive clearing", { strikes: 3, pipeline_status: "failed", reasons: ["Rejected after 3 strikes: the pipeline failed 3 times."], rejected_at: ago(5) }),
    mr(7, "merged", "Fix spindle warm-up", { merged_at: ago(10) }),
  ],
  total: 7,
  target_branches: ["main", "release/2026.11"],
  can_set_priority: true,
  priority_cap: 5,
};

export const BATCHES = {
  items: [
    { id: 12, project_id: 1, target_branch: "main", attempt_id: 5, run_id: null, probe: false, status: "testing", member_iids: [104, 108], landed_iids: [], culprit_iids: [], branch: "merge-assist/batch-12", batch_mr_iid: 140, batch_mr_url: `${PROJECT.web_url}/-/merge_requests/140`, base_sha: null, tested_sha: null, pipeline_id: 990, pipeline_status: "running", landed_sha: null, started_at: ago(4), finished_at: null },
    { id: 11, project_id: 1, target_branch: "main", attempt_id: 4, run_id: null, probe: false, status: "landed", member_iids: [107, 109, 110], landed_iids: [107, 109, 110], culprit_iids: [], branch: null, batch_mr_iid: 139, batch_mr_url: `${PROJECT.web_url}/-/merge_requests/139`, base_sha: null, tested_sha: null, pipeline_id: 980, pipeline_status: "success", landed_sha: "77ab01c", started_at: ago(40), finished_at: ago(12) },
  ],
};

export const STATS = {
  window_hours: 24,
  merged_per_hour: Array.from({ length: 24 }, (_, hour) => ({
    hour: new Date(now - (23 - hour) * 3600_000).toISOString().slice(0, 13) + ":00:00Z",
    merged: [0, 0, 1, 0, 0, 0, 0, 2, 3, 4, 2, 5, 3, 1, 2, 4, 3, 2, 1, 0, 1, 2, 3, 1][hour] ?? 0,
  })),
  time_to_merge: { count: 40, median_seconds: 1680, p95_seconds: 6900 },
  failures_by_reason: [
    { reason: "pipeline failed", count: 6 },
    { reason: "merge conflict", count: 2 },
    { reason: "missing approval", count: 1 },
  ],
};

export const LOGS = {
  items: [
    { id: 1, project_id: 1, target_branch: "main", level: "info", message: "Recognised !105 for the queue.", iid: 105, details: {}, created_at: ago(30) },
    { id: 2, project_id: 1, target_branch: "main", level: "warning", message: "Pipeline of !105 failed: strike 1 of 3.", iid: 105, details: {}, created_at: ago(25) },
    { id: 3, project_id: 1, target_branch: "main", level: "info", message: "Batch #12 built with !104 and !108; pipeline 990 started.", iid: null, details: {}, created_at: ago(4) },
  ],
};

function holder(username: string, displayName: string, minutes: number, reason: string) {
  return { holder: { id: 3, username, display_name: displayName }, since: ago(minutes), age_seconds: minutes * 60, reason, base_version: "a1b2c3d4e5" };
}

export const VAULT_FILES = {
  items: [
    { id: 1, vault_id: 1, path: "fixtures/clamp-plate.mcam", name: "clamp-plate.mcam", size: 482_113, current_version: "a1b2c3d4e5", content_sha256: "x", updated_at: ago(300), updated_by: "grace", status: "available", checked_out_by_me: false, lock: null },
    { id: 2, vault_id: 1, path: "programs/op10-roughing.nc", name: "op10-roughing.nc", size: 90_211, current_version: "b2c3d4e5f6", content_sha256: "x", updated_at: ago(120), updated_by: "linus", status: "checked_out", checked_out_by_me: false, lock: holder("linus", "Linus Lathe", 185, "Tuning the step-over for the new end mill") },
    { id: 3, vault_id: 1, path: "programs/op20-finishing.nc", name: "op20-finishing.nc", size: 61_004, current_version: "c3d4e5f6a7", content_sha256: "x", updated_at: ago(60), updated_by: "admin", status: "checked_out", checked_out_by_me: true, lock: holder("admin", "Avery Admin", 12, "Shorter lead-in") },
  ],
  total: 3,
  vault_total: 3,
  limit: 200,
  offset: 0,
};

const json = (route: Route, body: unknown) => route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(body) });

/** Answer the not-yet-served APIs in `page` with the fixtures above (the rest stays real). */
export async function standIn(page: Page): Promise<void> {
  await page.route(/\/api\/projects$/, (route) => (route.request().method() === "GET" ? json(route, [PROJECT]) : route.fallback()));
  await page.route(/\/api\/projects\/1\/mrs(\?.*)?$/, (route) => json(route, QUEUE));
  await page.route(/\/api\/projects\/1\/batches(\?.*)?$/, (route) => json(route, BATCHES));
  await page.route(/\/api\/projects\/1\/stats(\?.*)?$/, (route) => json(route, STATS));
  await page.route(/\/api\/logs(\?.*)?$/, (route) => json(route, LOGS));
  await page.route(/\/api\/vault\/vaults$/, (route) => json(route, []));
  await page.route(/\/api\/vault\/default\/files(\?.*)?$/, (route) => json(route, VAULT_FILES));
}
