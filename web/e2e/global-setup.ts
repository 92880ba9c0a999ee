import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The e2e tests drive the built dashboard: refuse to start against no build at all. */
export default function globalSetup(): void {
  const index = fileURLToPath(new URL("../dist/index.html", import.meta.url));
  if (!existsSync(index)) {
    throw new Error("web/dist is missing: run `npm run build` in web/ (or scripts/install) first.");
  }
}
