import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { answer, fakeApi } from "../testing/fakeApi";
import { project, renderPage } from "../testing/renderPage";
import { HealthPage } from "./HealthPage";
import { describeStates, type HealthStatus, type WebhookHealth } from "./status";

const STATUS: HealthStatus = {
  checked_at: new Date().toISOString(),
  workers: [
    { worker_id: "worker-a1", role: "worker", hostname: "box", pid: 42, started_at: "2026-11-22T00:00:00Z", last_seen: new Date(Date.now() - 180_000).toISOString(), stopped_at: null, alive: true },
    { worker_id: "listener-b2", role: "listener", hostname: "box", pid: 43, started_at: "2026-11-22T00:00:00Z", last_seen: new Date(Date.now() - 600_000).toISOString(), stopped_at: null, alive: false },
  ],
  leases: [{ project_id: 1, project_path: "group/app", owner: "worker-a1", token: 4, expires_at: "2026-11-22T02:00:00Z", held: true }],
  queues: [{ project_id: 1, project_path: "group/app", target_branch: "main", states: { waiting: 2, ready: 1, not_ready: 0 }, total: 3 }],
  inbox: { unprocessed: 2, oldest_received_at: new Date(Date.now() - 120_000).toISOString(), by_project: { "1": 2 } },
  last_errors: [{ id: 9, project_id: 1, target_branch: "main", iid: 12, message: "GitLab refused the merge: the branch moved.", created_at: "2026-11-22T01:00:00Z" }],
};

const HOOKS: WebhookHealth[] = [{ project_id: 1, project_path: "group/app", hook_id: 5, state: "executable", disabled_until: null, problem: null }];

function healthApi(status: unknown, hooks: unknown = HOOKS) {
  return fakeApi({
    "GET /api/projects": [project(1, "group/app")],
    "GET /api/health/ready": { status: "ready", database: "postgresql" },
    "GET /api/health/status": status,
    "GET /api/health/alerts": { open: 0, incidents: [] },
    "GET /api/health/alerts/settings": answer(404, { detail: "Not Found" }),
    "GET /api/health/webhooks": hooks,
  });
}

describe("the health page", () => {
  it("shows processes, leases, queue depth, the inbox backlog and the last errors", async () => {
    renderPage(<HealthPage />, { api: healthApi(STATUS) });
    expect(await screen.findByText("postgresql")).toBeInTheDocument();
    const workers = await screen.findByRole("table", { name: "Workers" });
    const alive = within(workers).getByRole("row", { name: /worker-a1/ });
    expect(alive).toHaveTextContent("3 min ago");
    expect(alive).toHaveTextContent("alive");
    expect(within(workers).getByRole("row", { name: /listener-b2/ })).toHaveTextContent("silent");
    expect(screen.getByRole("region", { name: "Queue depth" })).toHaveTextContent("group/app → main3ready 1, waiting 2");
    expect(screen.getByRole("region", { name: "Webhook inbox" })).toHaveTextContent("the oldest arrived 2 min ago");
    expect(screen.getByRole("region", { name: "Project leases" })).toHaveTextContent("group/app: held by worker-a1");
    expect(await screen.findByText(/group\/app → main !12:/)).toBeInTheDocument();
    expect(screen.getByRole("region", { name: "Last errors" })).toHaveTextContent("GitLab refused the merge: the branch moved.");
    expect(screen.queryByRole("region", { name: "GitLab" })).toBeNull();
  });

  it("shows GitLab's reachability when the server reports it", async () => {
    renderPage(<HealthPage />, { api: healthApi({ ...STATUS, gitlab: { reachable: false, detail: "Connection refused" } }) });
    const gitlab = await screen.findByRole("region", { name: "GitLab" });
    expect(gitlab).toHaveTextContent("not reachable");
    expect(gitlab).toHaveTextContent("Connection refused");
  });

  it("says when GitLab disabled a project's webhook, and what to do", async () => {
    const problem = "GitLab stopped sending events to Merge Assist after 4 or more failed deliveries in a row.";
    renderPage(<HealthPage />, { api: healthApi(STATUS, [{ ...HOOKS[0], state: "temporarily_disabled", disabled_until: "2026-11-22T02:00:00Z", problem }]) });
    const card = await screen.findByRole("region", { name: "GitLab webhooks" });
    expect(await within(card).findByText("disabled for a while")).toBeInTheDocument();
    expect(card).toHaveTextContent(problem);
  });

  it("shows a sending webhook as such", async () => {
    renderPage(<HealthPage />, { api: healthApi(STATUS) });
    const card = await screen.findByRole("region", { name: "GitLab webhooks" });
    expect(await within(card).findByText("sending")).toBeInTheDocument();
  });

  it("says so when the server has no status endpoint", async () => {
    renderPage(<HealthPage />, { api: healthApi(answer(404, { detail: "Not Found" })) });
    expect(await screen.findByText("This server does not report worker status yet.")).toBeInTheDocument();
    expect(screen.getByText("ready")).toBeInTheDocument();
  });

  it("lists the non-empty states of a queue", () => {
    expect(describeStates({ not_ready: 1, waiting: 0, ready: 2, other: 3 })).toBe("ready 2, not ready 1, other 3");
  });
});
