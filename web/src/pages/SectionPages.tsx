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

export function LogsPage() {
  return (
    <EmptyState
      title="Logs"
      summary="Nothing has been logged yet."
      upcoming={[
        "The audit log: merges, check-outs, check-ins, role changes, sign-ins.",
        "Filters by project, person, action and time.",
        "The merge queue's decisions for each merge request, with their reasons.",
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
