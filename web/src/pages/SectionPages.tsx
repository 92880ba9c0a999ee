/** The sections whose features are still to come: each says what it will show. */
import { EmptyState } from "../components/EmptyState";

export function VaultPage() {
  return (
    <EmptyState
      title="Vault"
      summary="No vault files yet."
      upcoming={[
        "Files that cannot be merged (binaries, spreadsheets, models), with who holds each one.",
        "Check out with a reason, check in a new version, undo a check-out.",
        "History with diffs and rollback, downloads, and the audit trail of every file.",
      ]}
    />
  );
}

export function NotFoundPage() {
  return (
    <EmptyState
      title="Page not found"
      summary="There is no page at this address."
      upcoming={["Use the navigation to go to one of the sections."]}
    />
  );
}
