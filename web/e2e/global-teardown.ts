import { rmSync } from "node:fs";

/** Remove the throw-away data folder the product ran with. */
export default function globalTeardown(): void {
  const dataDir = process.env.MERGE_ASSIST_E2E_DATA_DIR;
  if (dataDir?.includes("merge-assist-e2e-")) rmSync(dataDir, { recursive: true, force: true });
}
