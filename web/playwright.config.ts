/**
 * End-to-end tests: the real product (`merge-assist serve`, fresh data folder, the built
 * dashboard) driven in the system's Chromium. Browsers are never downloaded.
 */
import { mkdtempSync } from "node:fs";
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
process.env.MERGE_ASSIST_E2E_DATA_DIR ??= mkdtempSync(join(tmpdir(), "merge-assist-e2e-"));
const port = process.env.MERGE_ASSIST_E2E_PORT;
const dataDir = process.env.MERGE_ASSIST_E2E_DATA_DIR;
const baseURL = `http://127.0.0.1:${port}`;

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
  webServer: {
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
    },
  },
});
