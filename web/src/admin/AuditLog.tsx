/** The audit log: filters, pages of entries, and export of what the filters match. */
import { type FormEvent, useEffect, useId, useState } from "react";
import { useSession } from "../auth/AuthContext";
import { formatTime, sentenceOf } from "../components/format";
import { Button, Card, INPUT, Notice } from "../components/Page";
import { useToast } from "../components/Toasts";
import type { AuditPage } from "./api";
import { saveResponse } from "../components/download";

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

/** The audit log; `initial` narrows it from the start (a vault file's own entries). */
export function AuditLog({ initial, title = "Audit log" }: { initial?: Partial<Filters>; title?: string }) {
  const { auth } = useSession();
  const toast = useToast();
  const id = useId();
  const start = { ...NO_FILTERS, ...initial };
  const [draft, setDraft] = useState<Filters>(start);
  const [filters, setFilters] = useState<Filters>(start);
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<AuditPage | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    const params = auditQuery(filters);
    params.set("limit", String(PAGE_SIZE));
    params.set("offset", String(offset));
    auth.api
      .get<AuditPage>(`/api/audit?${params}`)
      .then((result) => {
        if (cancelled) return;
        setPage(result);
        setError(null);
      })
      .catch((failure: unknown) => !cancelled && setError(sentenceOf(failure, "The audit log could not be loaded.")));
    return () => {
      cancelled = true;
    };
  }, [auth, filters, offset]);

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
      {error ? (
        <Notice tone="error" title={error} />
      ) : page === null ? (
        <p role="status">Loading the audit log…</p>
      ) : page.items.length === 0 ? (
        <Notice title="No audit entries match these filters.">Clear the filters, or widen the time range.</Notice>
      ) : (
        <>
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm">
              <caption className="sr-only">Audit entries</caption>
              <thead className="text-xs text-slate-500 uppercase">
                <tr>
                  <th scope="col" className="py-1 pr-3">Time</th>
                  <th scope="col" className="py-1 pr-3">Actor</th>
                  <th scope="col" className="py-1 pr-3">Action</th>
                  <th scope="col" className="py-1 pr-3">Target</th>
                  <th scope="col" className="py-1 pr-3">Outcome</th>
                  <th scope="col" className="py-1 pr-3">Details</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((entry) => (
                  <tr key={entry.id} className="border-t border-slate-100 align-top dark:border-slate-800">
                    <td className="py-1 pr-3 whitespace-nowrap">{formatTime(entry.occurred_at)}</td>
                    <td className="py-1 pr-3">{entry.actor_name}</td>
                    <td className="py-1 pr-3 font-mono text-xs">{entry.action}</td>
                    <td className="py-1 pr-3">{[entry.target_type, entry.target_id].filter(Boolean).join(" ") || "—"}</td>
                    <td className="py-1 pr-3">{entry.success ? "succeeded" : "failed"}</td>
                    <td className="max-w-xs truncate py-1 pr-3 font-mono text-xs" title={JSON.stringify(entry.details)}>
                      {Object.keys(entry.details).length ? JSON.stringify(entry.details) : "—"}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="mt-2 flex gap-2">
            <Button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}>Newer</Button>
            <Button disabled={offset + page.items.length >= page.total} onClick={() => setOffset(offset + PAGE_SIZE)}>Older</Button>
          </div>
        </>
      )}
    </Card>
  );
}
