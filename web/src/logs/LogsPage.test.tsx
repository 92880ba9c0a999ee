import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { answer, fakeApi } from "../testing/fakeApi";
import { project, renderPage } from "../testing/renderPage";
import { appendLines, type LogLine, LogsPage, MAX_LINES } from "./LogsPage";

function line(id: number, level: LogLine["level"], message: string): LogLine {
  return { id, project_id: 1, target_branch: "main", level, message, iid: 12, details: {}, created_at: "2026-11-22T01:00:00Z" };
}

function logsApi(items: LogLine[]) {
  return fakeApi({
    "GET /api/projects": [project(1, "group/app")],
    "GET /api/logs": (request: { query: URLSearchParams }) => {
      const q = request.query.get("q");
      return { items: q ? items.filter((item) => item.message.includes(q)) : items };
    },
  });
}

describe("the logs page", () => {
  it("shows the project's log and tails new lines live", async () => {
    const api = logsApi([line(1, "info", "Recognised !12."), line(2, "warning", "Pipeline of !12 failed: strike 1 of 3.")]);
    const { live } = renderPage(<LogsPage />, { api });
    const log = await screen.findByRole("log", { name: "Log of group/app" });
    expect(within(log).getAllByRole("listitem").map((item) => item.textContent)).toEqual([
      expect.stringContaining("Recognised !12."),
      expect.stringContaining("strike 1 of 3"),
    ]);
    expect(api.calls[1]?.query.get("project_id")).toBe("1");
    expect(api.calls[1]?.query.get("level")).toBe("info");

    live.emit({ type: "log.appended", project_id: 1, log: line(3, "error", "Merge of !12 refused by GitLab.") });
    live.emit({ type: "log.appended", project_id: 1, log: line(4, "debug", "Polling.") });
    live.emit({ type: "log.appended", project_id: 2, log: line(5, "error", "Another project.") });
    expect(within(log).getAllByRole("listitem")).toHaveLength(3);
    expect(within(log).getByText("Merge of !12 refused by GitLab.")).toBeInTheDocument();
  });

  it("filters by level and searches", async () => {
    const api = logsApi([line(1, "info", "Recognised !12."), line(2, "info", "Merged !13.")]);
    const { user } = renderPage(<LogsPage />, { api });
    await screen.findByRole("log");
    await user.selectOptions(screen.getByLabelText("Minimum level"), "warning");
    await waitFor(() => expect(api.calls.some((call) => call.query.get("level") === "warning")).toBe(true));
    await user.type(screen.getByLabelText("Search the log"), "Merged{Enter}");
    expect(await screen.findByText("Merged !13.")).toBeInTheDocument();
    expect(screen.queryByText("Recognised !12.")).toBeNull();
    expect(api.calls.at(-1)?.query.get("q")).toBe("Merged");
  });

  it("says what to do when empty, and shows refusals", async () => {
    const api = logsApi([]);
    const { user } = renderPage(<LogsPage />, { api });
    expect(await screen.findByText("Nothing logged at info or above yet.")).toBeInTheDocument();
    api.on("GET /api/logs", answer(403, { detail: "Reading this project's log needs access to the project." }));
    await user.selectOptions(screen.getByLabelText("Minimum level"), "error");
    expect(await screen.findByText("Reading this project's log needs access to the project.")).toBeInTheDocument();
  });

  it("keeps each line once, in order, and at most MAX_LINES", () => {
    const many = Array.from({ length: MAX_LINES + 5 }, (_, index) => line(index + 1, "info", `line ${index + 1}`));
    const kept = appendLines([line(3, "info", "line 3")], many);
    expect(kept).toHaveLength(MAX_LINES);
    expect(kept[0]?.id).toBe(6);
    expect(appendLines([line(2, "info", "b")], [line(1, "info", "a"), line(2, "info", "b")]).map((l) => l.id)).toEqual([1, 2]);
  });
});
