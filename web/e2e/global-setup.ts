import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { QUEUE_PROJECT, VAULT_FILES } from "./support";

/**
 * The e2e tests drive the built dashboard against the real product, which Playwright has
 * started (with the GitLab sandbox) before this runs. Refuse to start without a build; create
 * the administrator with the real CLI; then, through the real API as the administrator, add
 * the other people, onboard the queue project, fill the vault, and wait until the queue has
 * recognised the MRs assigned to the bot.
 */
export default async function globalSetup(): Promise<void> {
  const webDir = fileURLToPath(new URL("..", import.meta.url));
  if (!existsSync(join(webDir, "dist", "index.html"))) {
    throw new Error("web/dist is missing: run `npm run build` in web/ (or scripts/install) first.");
  }
  const dataDir = process.env.MERGE_ASSIST_E2E_DATA_DIR;
  if (!dataDir) throw new Error("MERGE_ASSIST_E2E_DATA_DIR is not set (see playwright.config.ts)");
  // The first administrator comes from the real CLI (password on stdin), as on a new install.
  const adminPassword = randomBytes(18).toString("base64url");
  execFileSync(
    "uv",
    ["run", "--frozen", "merge-assist", "users", "create", "admin", "--role", "admin",
      "--display-name", "Avery Admin", "--password-stdin"],
    {
      cwd: join(webDir, ".."),
      input: `${adminPassword}\n`,
      stdio: ["pipe", "ignore", "inherit"],
      env: {
        ...process.env,
        MERGE_ASSIST_DATA_DIR: dataDir,
        MERGE_ASSIST_DATABASE_URL: `sqlite+aiosqlite:///${join(dataDir, "merge-assist.sqlite3")}`,
      },
    },
  );
  process.env.MERGE_ASSIST_E2E_ADMIN_PASSWORD = adminPassword;
  const api = await adminApi(`http://127.0.0.1:${process.env.MERGE_ASSIST_E2E_PORT}`, adminPassword);

  // The others through the administrator's API: a member, for what one person does and
  // another sees (messages, vault), and a viewer, who may look but not change (the queue).
  const people = [
    { username: "morgan", display_name: "Morgan Member", role: "member", variable: "MERGE_ASSIST_E2E_MEMBER_PASSWORD" },
    { username: "vera", display_name: "Vera Viewer", role: "viewer", variable: "MERGE_ASSIST_E2E_VIEWER_PASSWORD" },
  ];
  for (const { username, display_name, role, variable } of people) {
    const password = randomBytes(18).toString("base64url");
    await api("POST", "/api/users", { json: { username, display_name, password, roles: [role] } });
    process.env[variable] = password;
  }
  // Onboarding for real: the product reads the project as the bot and registers its webhook.
  const project = (await api("POST", "/api/projects", {
    json: { gitlab_project: QUEUE_PROJECT, strategy: "single", polling_interval_seconds: 10, max_rejections: 1 },
  })) as { id: number };
  process.env.MERGE_ASSIST_E2E_PROJECT_ID = String(project.id);
  for (const [path, content] of Object.entries(VAULT_FILES)) {
    const form = new FormData();
    form.append("file", new Blob([content]), path.split("/").pop());
    form.append("name", path);
    form.append("message", "First version");
    await api("POST", "/api/vault/default/files", { form });
  }
  await waitFor(`the queue of ${QUEUE_PROJECT} to recognise its 4 MRs`, 60_000, async () => {
    const list = (await api("GET", `/api/projects/${project.id}/mrs`)) as { items: { queue_state: string }[] };
    return list.items.filter((mr) => mr.queue_state === "waiting").length === 4;
  });
}

type Call = (method: string, path: string, body?: { json?: unknown; form?: FormData }) => Promise<unknown>;

/** Calls to the product's API as the administrator (signed in through the real login). */
async function adminApi(base: string, password: string): Promise<Call> {
  const login = await fetch(`${base}/api/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: "admin", password }),
  });
  if (!login.ok) throw new Error(`global setup could not sign in: ${login.status} ${await login.text()}`);
  const { access_token: token } = (await login.json()) as { access_token: string };
  return async (method, path, body = {}) => {
    const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
    if (body.json !== undefined) headers["Content-Type"] = "application/json";
    const answer = await fetch(`${base}${path}`, {
      method,
      headers,
      body: body.json !== undefined ? JSON.stringify(body.json) : body.form,
    });
    if (!answer.ok) throw new Error(`global setup: ${method} ${path} answered ${answer.status}: ${await answer.text()}`);
    return answer.status === 204 ? null : answer.json();
  };
}

async function waitFor(what: string, limitMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`global setup gave up waiting for ${what}`);
}
