/**
 * End-to-end tests: the real product (`merge-assist serve`, fresh data folder, the built
 * dashboard) driven in the system's Chromium. Browsers are never downloaded.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "@playwright/test";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const webDir = fileURLToPath(new URL(".", import.meta.url));
const repoDir = join(webDir, "..");
// The config is loaded by the runner and again by its workers: choose once, share by env.
process.env.MERGE_ASSIST_E2E_PORT ??= String(await freePort());
process.env.MERGE_ASSIST_E2E_SANDBOX_PORT ??= String(await freePort());
process.env.MERGE_ASSIST_E2E_CHAT_PORT ??= String(await freePort());
process.env.MERGE_ASSIST_E2E_DATA_DIR ??= mkdtempSync(join(tmpdir(), "merge-assist-e2e-"));
process.env.MERGE_ASSIST_E2E_BOT_TOKEN ??= randomBytes(24).toString("base64url");
process.env.MERGE_ASSIST_E2E_SANDBOX_ADMIN_TOKEN ??= randomBytes(24).toString("base64url");
// Grace's GitLab personal access token: the e2e signs in with it on the GitLab Token tab.
process.env.MERGE_ASSIST_E2E_GITLAB_TOKEN ??= `glpat-${randomBytes(18).toString("base64url")}`;
const port = process.env.MERGE_ASSIST_E2E_PORT;
const sandboxPort = process.env.MERGE_ASSIST_E2E_SANDBOX_PORT;
const dataDir = process.env.MERGE_ASSIST_E2E_DATA_DIR;
const botToken = process.env.MERGE_ASSIST_E2E_BOT_TOKEN;
const baseURL = `http://127.0.0.1:${port}`;
const sandboxURL = `http://127.0.0.1:${sandboxPort}`;
process.env.MERGE_ASSIST_E2E_SANDBOX_URL = sandboxURL;
// The AI summary's endpoint: the sandbox's stand-in for an OpenAI-compatible chat server.
const chatURL = `http://127.0.0.1:${process.env.MERGE_ASSIST_E2E_CHAT_PORT}/v1`;
process.env.MERGE_ASSIST_E2E_CHAT_URL = chatURL;

const BOT = "merge-assist-bot";
const mr = (branch: string, title: string, files: Record<string, string>) => ({
  source_branch: branch, title, author: "grace", assignees: [BOT], files,
});

// The GitLab the product talks to: the sandbox (real HTTP and git). `machining/fixtures` is
// onboarded by global setup with four MRs assigned to the bot (one breaks CI);
// `machining/cam-programs` is left for the administration e2e to onboard.
// CI takes an hour of sandbox time and the clock runs at real speed, so the MRs wait in the
// queue (their pipelines running) until queue.spec.ts speeds the sandbox clock up.
const scenario = join(dataDir, "sandbox-scenario.json");
writeFileSync(
  scenario,
  JSON.stringify({
    seed: 11,
    clock_speed: 1,
    ci: { duration_seconds: [3600, 3600], flake_rate: 0, runner_capacity: 8, fail_marker: "sandbox-ci: fail" },
    users: [
      { username: "root", admin: true },
      { username: BOT, name: "Merge Assist Bot", bot: true, tokens: [{ name: "e2e", value: botToken, scopes: ["api"] }] },
      {
        username: "grace", name: "Grace Hopper", email: "grace@example.com",
        tokens: [{ name: "dashboard", value: process.env.MERGE_ASSIST_E2E_GITLAB_TOKEN, scopes: ["api"] }],
      },
    ],
    projects: [
      {
        path: "machining/cam-programs",
        default_branch: "main",
        members: { [BOT]: "maintainer", grace: "developer" },
        files: { "README.md": "# CAM programs\n" },
      },
      {
        path: "machining/fixtures",
        default_branch: "main",
        members: { [BOT]: "maintainer", grace: "developer" },
        settings: { merge_method: "merge", only_allow_merge_if_pipeline_succeeds: true },
        protected_branches: [{ name: "main", push_access_level: "maintainer", merge_access_level: "developer" }],
        files: { "README.md": "# Fixtures\n" },
        merge_requests: [
          mr("probe-cycle", "Probe cycle for the second fixture", { "fixtures/probe.nc": "G65 P9810 Z-5.\n" }),
          mr("ball-end-mill", "Tool table: add 6 mm ball end mill", { "tools/ball-6.nc": "T6 (BALL 6MM)\n" }),
          mr("coolant", "Coolant on for the finishing pass", { "fixtures/coolant.nc": "M8\n" }),
          mr("adaptive", "Experimental adaptive clearing", { "fixtures/adaptive.nc": "(sandbox-ci: fail)\n" }),
        ],
      },
    ],
  }),
);

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 5_000 },
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  globalSetup: "./e2e/global-setup.ts",
  globalTeardown: "./e2e/global-teardown.ts",
  use: {
    baseURL,
    browserName: "chromium",
    viewport: { width: 1100, height: 700 },
    colorScheme: "light",
    screenshot: "only-on-failure",
    trace: "off",
    launchOptions: {
      executablePath: process.env.MERGE_ASSIST_CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: [
    {
      command: `uv run --frozen gitlab-sandbox serve --port ${sandboxPort} --data-dir ${join(dataDir, "gitlab")} --scenario ${scenario}`,
      cwd: repoDir,
      url: `${sandboxURL}/api/v4/version`,
      reuseExistingServer: false,
      timeout: 90_000,
      stdout: "ignore",
      stderr: "pipe",
      env: { GITLAB_SANDBOX_ADMIN_TOKEN: process.env.MERGE_ASSIST_E2E_SANDBOX_ADMIN_TOKEN },
    },
    {
      command: `uv run --frozen gitlab-sandbox chat --port ${process.env.MERGE_ASSIST_E2E_CHAT_PORT}`,
      cwd: repoDir,
      url: `${chatURL}/models`,
      reuseExistingServer: false,
      timeout: 90_000,
      stdout: "ignore",
      stderr: "pipe",
    },
    {
      command: `uv run --frozen merge-assist serve --port ${port}`,
      cwd: repoDir,
      url: `${baseURL}/api/health`,
      reuseExistingServer: false,
      timeout: 90_000,
      stdout: "ignore",
      stderr: "pipe",
      env: {
        MERGE_ASSIST_DATA_DIR: dataDir,
        MERGE_ASSIST_DATABASE_URL: `sqlite+aiosqlite:///${join(dataDir, "merge-assist.sqlite3")}`,
        MERGE_ASSIST_WEB_DIST_DIR: join(webDir, "dist"),
        MERGE_ASSIST_ENVIRONMENT: "development",
        MERGE_ASSIST_LOG_LEVEL: "WARNING",
        MERGE_ASSIST_GITLAB_URL: sandboxURL,
        MERGE_ASSIST_PUBLIC_URL: baseURL,
        MERGE_ASSIST_SECRET_GITLAB_BOT_TOKEN: botToken,
        MERGE_ASSIST_SECRET_ASSISTANT_API_KEY: "e2e-chat-key",
      },
    },
  ],
});
