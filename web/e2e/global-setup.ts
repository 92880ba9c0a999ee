import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The e2e tests drive the built dashboard against the real product: refuse to start without a
 * build, and create the administrator they sign in as with the real CLI (password on stdin).
 */
export default function globalSetup(): void {
  const webDir = fileURLToPath(new URL("..", import.meta.url));
  if (!existsSync(join(webDir, "dist", "index.html"))) {
    throw new Error("web/dist is missing: run `npm run build` in web/ (or scripts/install) first.");
  }
  const dataDir = process.env.MERGE_ASSIST_E2E_DATA_DIR;
  if (!dataDir) throw new Error("MERGE_ASSIST_E2E_DATA_DIR is not set (see playwright.config.ts)");
  const createUser = (username: string, role: string, displayName: string): string => {
    const password = randomBytes(18).toString("base64url");
    execFileSync(
      "uv",
      ["run", "--frozen", "merge-assist", "users", "create", username, "--role", role,
        "--display-name", displayName, "--password-stdin"],
      {
        cwd: join(webDir, ".."),
        input: `${password}\n`,
        stdio: ["pipe", "ignore", "inherit"],
        env: {
          ...process.env,
          MERGE_ASSIST_DATA_DIR: dataDir,
          MERGE_ASSIST_DATABASE_URL: `sqlite+aiosqlite:///${join(dataDir, "merge-assist.sqlite3")}`,
        },
      },
    );
    return password;
  };
  process.env.MERGE_ASSIST_E2E_ADMIN_PASSWORD = createUser("admin", "admin", "Avery Admin");
  // A second person, for what one user does and another sees (messages).
  process.env.MERGE_ASSIST_E2E_MEMBER_PASSWORD = createUser("morgan", "member", "Morgan Member");
}
