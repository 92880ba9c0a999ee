/** The audit log: filters, pages of entries, and export of what the filters match. */
import { type FormEvent, useId, useState } from "react";
import { useSession } from "../auth/AuthContext";
import { type Column, DataTable } from "../components/DataTable";
import { saveResponse } from "../components/download";
import { formatTime, sentenceOf } from "../components/format";
import { LoadState } from "../components/LoadState";
import { Button, Card, INPUT } from "../components/Page";
import { useToast } from "../components/Toasts";
import { useQuery } from "../components/useQuery";
import type { AuditEntry, AuditPage } from "./api";

const PAGE_SIZE = 50;

export interface Filters {
  actor: string;
  action: string;
  target_type: string;
  target_id: string;
  success: "" | "true" | "false";
  since: string;
  until: string;
}

export const NO_FILTERS: Filters = { actor: "", action: "", target_type: "", target_id: "", success: "", since: "", until: "" };

/** The query string of the filters (local date-times are sent as UTC instants). */
export function auditQuery(filters: Filters): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters) as [keyof Filters, string][]) {
    if (!value.trim()) continue;
    if (key === "since" || key === "until") {
      const date = new Date(value);
      if (!Number.isNaN(date.getTime())) params.set(key, date.toISOString());
    } else {
      params.set(key, value.trim());
    }
  }
  return params;
}

const ENTRY_COLUMNS: Column<AuditEntry>[] = [
  { header: "Time", className: "whitespace-nowrap", cell: (entry) => formatTime(entry.occurred_at) },
  { header: "Actor", cell: (entry) => entry.actor_name },
  { header: "Action", className: "font-mono text-xs", cell: (entry) => entry.action },
  { header: "Target", cell: (entry) => [entry.target_type, entry.target_id].filter(Boolean).join(" ") || "—" },
  { header: "Outcome", cell: (entry) => (entry.success ? "succeeded" : "failed") },
  {
    header: "Details",
    className: "max-w-xs truncate font-mono text-xs",
    title: (entry) => JSON.stringify(entry.details),
    cell: (entry) => (Object.keys(entry.details).length ? JSON.stringify(entry.details) : "—"),
  },
];

/** The audit log; `initial` narrows it from the start (a vault file's own entries). */
export function AuditLog({ initial, title = "Audit log" }: { initial?: Partial<Filters>; title?: string }) {
  const { auth } = useSession();
  const toast = useToast();
  const id = useId();
  const start = { ...NO_FILTERS, ...initial };
  const [draft, setDraft] = useState<Filters>(start);
  const [filters, setFilters] = useState<Filters>(start);
  const [offset, setOffset] = useState(0);
  const params = auditQuery(filters);
  params.set("limit", String(PAGE_SIZE));
  params.set("offset", String(offset));
  const entries = useQuery(() => auth.api.get<AuditPage>(`/api/audit?${params}`), [auth, filters, offset], "The audit log could not be loaded.");
  const page = entries.data;

  function apply(event: FormEvent) {
    event.preventDefault();
    setOffset(0);
    setFilters(draft);
  }

  async function exportAs(format: "jsonl" | "csv") {
    const params = auditQuery(filters);
    params.set("format", format);
    try {
      const response = await auth.api.raw("GET", `/api/audit/export?${params}`, { headers: { Accept: "*/*" } });
      const name = await saveResponse(response, `audit.${format}`);
      toast.show(`Exported ${name}.`, "success");
    } catch (failure) {
      toast.show(sentenceOf(failure, "The export failed."), "error");
    }
  }

  const text = (key: keyof Filters, label: string, type = "text") => (
    <label htmlFor={`${id}-${key}`} className="flex flex-col gap-1 text-sm font-medium">
      {label}
      <input id={`${id}-${key}`} type={type} value={draft[key]} onChange={(e) => setDraft({ ...draft, [key]: e.target.value })} className={INPUT} />
    </label>
  );

  return (
    <Card title={title}>
      <form aria-label="Audit filters" onSubmit={apply} className="mb-4 grid gap-3 md:grid-cols-4">
        {text("actor", "Actor")}
        {text("action", "Action")}
        {text("target_type", "Target type")}
        {text("target_id", "Target")}
        <label htmlFor={`${id}-success`} className="flex flex-col gap-1 text-sm font-medium">
          Outcome
          <select id={`${id}-success`} value={draft.success} onChange={(e) => setDraft({ ...draft, success: e.target.value as Filters["success"] })} className={INPUT}>
            <option value="">Any</option>
            <option value="true">Succeeded</option>
            <option value="false">Failed</option>
          </select>
        </label>
        {text("since", "From", "datetime-local")}
        {text("until", "Until", "datetime-local")}
        <div className="flex items-end gap-2">
          <Button type="submit" variant="primary">Apply filters</Button>
          <Button
            onClick={() => {
              setDraft(NO_FILTERS);
              setFilters(NO_FILTERS);
              setOffset(0);
            }}
          >
            Clear
          </Button>
        </div>
        <p className="text-xs text-slate-500 md:col-span-4">An action ending in * matches a prefix, like vault.*.</p>
      </form>
      <div className="mb-2 flex flex-wrap items-center gap-2">
        <span className="text-sm text-slate-500">
          {page ? (page.total === 0 ? "No entries." : `Showing ${page.offset + 1}–${page.offset + page.items.length} of ${page.total}`) : ""}
        </span>
        <div className="ml-auto flex gap-2">
          <Button onClick={() => void exportAs("jsonl")}>Export JSON Lines</Button>
          <Button onClick={() => void exportAs("csv")}>Export CSV</Button>
        </div>
      </div>
      <LoadState data={page} error={entries.error} loading="Loading the audit log…" empty="No audit entries match these filters." emptyHint="Clear the filters, or widen the time range.">
        {(shown) => (
          <>
            <DataTable caption="Audit entries" columns={ENTRY_COLUMNS} rows={shown.items} rowKey={(entry) => entry.id} rowClassName={() => "align-top"} />
            <div className="mt-2 flex gap-2">
              <Button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}>Newer</Button>
              <Button disabled={offset + shown.items.length >= shown.total} onClick={() => setOffset(offset + PAGE_SIZE)}>Older</Button>
            </div>
          </>
        )}
      </LoadState>
    </Card>
  );
}
