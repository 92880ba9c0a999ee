import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { answer, fakeApi } from "../testing/fakeApi";
import { renderPage } from "../testing/renderPage";
import { HealthPage } from "./HealthPage";
import { readStatus } from "./status";

const STATUS = {
  status: "degraded",
  gitlab: { reachable: false, detail: "Connection refused by gitlab.example.com" },
  workers: [
    { worker_id: "worker-a1", role: "worker", hostname: "box", pid: 42, last_seen: new Date(Date.now() - 5000).toISOString(), alive: true },
  ],
  leases: [{ project_id: 1, owner: "worker-a1", expires_at: "2026-11-22T02:00:00Z" }],
  queue_depth: [{ project: "group/app", target_branch: "main", count: 4 }],
  inbox_backlog: 2,
  last_errors: [{ at: "2026-11-22T01:00:00Z", source: "listener", message: "Webhook with a wrong token refused." }],
};

function healthApi(status: unknown) {
  return fakeApi({
    "GET /api/projects": [],
    "GET /api/health/ready": { status: "ready", database: "postgresql" },
    "GET /api/health/status": status,
  });
}

describe("the health page", () => {
  it("shows workers, leases, queue depth, GitLab and the last errors", async () => {
    renderPage(<HealthPage />, { api: healthApi(STATUS) });
    expect(await screen.findByText("postgresql")).toBeInTheDocument();
    expect(await screen.findByText("not reachable")).toBeInTheDocument();
    expect(screen.getByText("Connection refused by gitlab.example.com")).toBeInTheDocument();
    const workers = screen.getByRole("table", { name: "Workers" });
    expect(within(workers).getByText("worker-a1")).toBeInTheDocument();
    expect(within(workers).getByText("5 s ago")).toBeInTheDocument();
    expect(within(workers).getByText("alive")).toBeInTheDocument();
    expect(screen.getByRole("region", { name: "Queue depth" })).toHaveTextContent("group/app → main4");
    expect(screen.getByRole("region", { name: "Webhook inbox" })).toHaveTextContent("2");
    expect(screen.getByRole("region", { name: "Project leases" })).toHaveTextContent("Project 1: held by worker-a1");
    expect(screen.getByRole("region", { name: "Last errors" })).toHaveTextContent("listener: Webhook with a wrong token refused.");
  });

  it("says so when the server has no status endpoint", async () => {
    renderPage(<HealthPage />, { api: healthApi(answer(404, { detail: "Not Found" })) });
    expect(await screen.findByText("This server does not report worker status yet.")).toBeInTheDocument();
    expect(screen.getByText("ready")).toBeInTheDocument();
  });

  it("reads other shapes without breaking", () => {
    const status = readStatus({ gitlab_reachable: true, queue_depth: 3, workers: { items: [{ id: "w" }] }, inbox: { pending: 7 } });
    expect(status.gitlab.reachable).toBe(true);
    expect(status.queueDepth).toEqual([{ label: "All projects", count: 3 }]);
    expect(status.workers[0]?.id).toBe("w");
    expect(status.inboxBacklog).toBe(7);
    expect(readStatus("nonsense").workers).toEqual([]);
  });
});
