/** The vault's dialogs: check-out and force reasons, check-in and upload, history with diff. */
import { type FormEvent, useId, useState } from "react";
import { useSession } from "../auth/AuthContext";
import { type Column, DataTable } from "../components/DataTable";
import { Dialog } from "../components/Dialog";
import { saveResponse } from "../components/download";
import { formatBytes, formatTime, sentenceOf } from "../components/format";
import { LoadState } from "../components/LoadState";
import { Button, describedBy, Field, INPUT } from "../components/Page";
import { useToast } from "../components/Toasts";
import { useQuery } from "../components/useQuery";
import { type CheckInResult, filesPath, MAX_REASON, type VaultFile, type Version, type VersionDiff } from "./api";

function FormError({ error }: { error: string | null }) {
  return error ? (
    <p role="alert" className="rounded-md border border-red-300 bg-red-50 p-2 text-sm dark:border-red-800 dark:bg-red-950">
      {error}
    </p>
  ) : null;
}

/** Check out (anyone with write access) or force-unlock (admins): both ask for a reason. */
export function ReasonDialog({ vault, file, mode, onClose, onDone }: { vault: string; file: VaultFile; mode: "checkout" | "force-unlock"; onClose: () => void; onDone: () => void }) {
  const { auth } = useSession();
  const toast = useToast();
  const id = useId();
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const force = mode === "force-unlock";

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await auth.api.post(filesPath(vault, file.id, mode), { reason: reason.trim() });
      toast.show(force ? `${file.name} is released; ${file.lock?.holder.display_name ?? "its holder"} gets a message.` : `${file.name} is checked out to you.`, "success");
      onDone();
    } catch (failure) {
      // A 409 names who holds the file, since when and why: show it where the person looks.
      setError(sentenceOf(failure, "The file could not be checked out."));
    } finally {
      setBusy(false);
    }
  }

  const title = force ? `Force unlock ${file.name}` : `Check out ${file.name}`;
  return (
    <Dialog title={title} onClose={onClose}>
      <form aria-label={title} onSubmit={(event) => void submit(event)} className="flex flex-col gap-3">
        <FormError error={error} />
        {force && file.lock ? (
          <p className="text-sm">
            Held by {file.lock.holder.display_name} since {formatTime(file.lock.since)}: “{file.lock.reason}”. They will get a message with your reason.
          </p>
        ) : null}
        <Field label="Reason" id={`${id}-reason`} hint={`1 to ${MAX_REASON} characters; others see it while you hold the file.`}>
          <textarea id={`${id}-reason`} required rows={3} maxLength={MAX_REASON} value={reason} onChange={(e) => setReason(e.target.value)} className={INPUT} {...describedBy(`${id}-reason`, true, null)} />
        </Field>
        <div className="flex gap-2">
          <Button type="submit" variant={force ? "danger" : "primary"} disabled={busy || !reason.trim()}>
            {force ? "Force unlock" : "Check out"}
          </Button>
          <Button onClick={onClose}>Cancel</Button>
        </div>
      </form>
    </Dialog>
  );
}

/** Check in a new version (or upload a new file when `file` is null). */
export function UploadDialog({ vault, file, onClose, onDone }: { vault: string; file: VaultFile | null; onClose: () => void; onDone: () => void }) {
  const { auth } = useSession();
  const toast = useToast();
  const id = useId();
  const [content, setContent] = useState<File | null>(null);
  const [name, setName] = useState("");
  const [message, setMessage] = useState("");
  const [keepLocked, setKeepLocked] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!content) return;
    const form = new FormData();
    form.append("file", content, content.name);
    if (message.trim()) form.append("message", message.trim());
    if (file) {
      form.append("base_version", file.lock?.base_version ?? file.current_version);
      form.append("keep_locked", String(keepLocked));
    } else if (name.trim()) {
      form.append("name", name.trim());
    }
    setBusy(true);
    setError(null);
    try {
      if (file) {
        const result = await auth.api.request<CheckInResult>("POST", filesPath(vault, file.id, "checkin"), { rawBody: form });
        const what = result.changed ? "A new version is stored" : "The content was unchanged, no new version";
        toast.show(`${what}; ${file.name} ${result.released ? "is released" : "stays checked out to you"}.`, "success");
      } else {
        const created = await auth.api.request<VaultFile>("POST", filesPath(vault), { rawBody: form });
        toast.show(`${created.path} is in the vault (version 1).`, "success");
      }
      onDone();
    } catch (failure) {
      setError(sentenceOf(failure, "The upload failed."));
    } finally {
      setBusy(false);
    }
  }

  const title = file ? `Check in ${file.name}` : "Upload a new file";
  return (
    <Dialog title={title} onClose={onClose}>
      <form aria-label={title} onSubmit={(event) => void submit(event)} className="flex flex-col gap-3">
        <FormError error={error} />
        <Field label={file ? "New content" : "File"} id={`${id}-file`}>
          <input id={`${id}-file`} type="file" required onChange={(e) => setContent(e.target.files?.[0] ?? null)} className="text-sm" />
        </Field>
        {file ? null : (
          <Field label="Name in the vault (optional)" id={`${id}-name`} hint="A path like fixtures/part.mcam; the uploaded file's name when empty.">
            <input id={`${id}-name`} value={name} onChange={(e) => setName(e.target.value)} className={INPUT} {...describedBy(`${id}-name`, true, null)} />
          </Field>
        )}
        <Field label="Message" id={`${id}-message`}>
          <textarea id={`${id}-message`} rows={3} value={message} onChange={(e) => setMessage(e.target.value)} className={INPUT} />
        </Field>
        {file ? (
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" checked={keepLocked} onChange={(e) => setKeepLocked(e.target.checked)} /> Keep it checked out
          </label>
        ) : null}
        <div className="flex gap-2">
          <Button type="submit" variant="primary" disabled={busy || !content}>
            {file ? "Check in" : "Upload"}
          </Button>
          <Button onClick={onClose}>Cancel</Button>
        </div>
      </form>
    </Dialog>
  );
}

/** Versions newest first: download one, see what changed, roll back to it. */
export function HistoryDialog({ vault, file, canRollback, onClose, onDone }: { vault: string; file: VaultFile; canRollback: boolean; onClose: () => void; onDone: () => void }) {
  const { auth } = useSession();
  const toast = useToast();
  const history = useQuery(() => auth.api.get<Version[]>(filesPath(vault, file.id, "history")), [auth, vault, file.id], "The history could not be loaded.");
  const [diff, setDiff] = useState<VersionDiff | null>(null);

  async function showChanges(older: Version, newer: Version) {
    try {
      const params = new URLSearchParams({ from: older.id, to: newer.id });
      setDiff(await auth.api.get<VersionDiff>(`${filesPath(vault, file.id, "diff")}?${params}`));
    } catch (failure) {
      toast.show(sentenceOf(failure, "The changes could not be compared."), "error");
    }
  }

  async function download(version: Version) {
    try {
      const response = await auth.api.raw("GET", `${filesPath(vault, file.id, "content")}?version=${encodeURIComponent(version.id)}`, { headers: { Accept: "*/*" } });
      await saveResponse(response, file.name);
    } catch (failure) {
      toast.show(sentenceOf(failure, "The download failed."), "error");
    }
  }

  async function rollback(version: Version) {
    try {
      await auth.api.post<CheckInResult>(filesPath(vault, file.id, "rollback"), { version: version.id });
      toast.show(`${file.name} is back to the content of ${version.id.slice(0, 8)} (as a new version).`, "success");
      onDone();
    } catch (failure) {
      toast.show(sentenceOf(failure, "The rollback was refused."), "error");
    }
  }

  return (
    <Dialog title={`History of ${file.name}`} onClose={onClose} wide>
      <LoadState data={history.data} error={history.error} loading="Loading the history…">
        {(versions) => (
          <ol aria-label="Versions" className="flex flex-col divide-y divide-slate-200 dark:divide-slate-800">
            {versions.map((version, index) => {
              const older = versions[index + 1];
              const short = version.id.slice(0, 8);
              return (
                <li key={version.id} className="flex flex-wrap items-center gap-2 py-2 text-sm">
                  <div className="min-w-64 flex-1">
                    <div className="font-medium">{version.message || "(no message)"}</div>
                    <div className="text-xs text-slate-500">
                      <span className="font-mono">{short}</span> · {version.author_name} · {formatTime(version.date)} · {formatBytes(version.size)}
                      {index === 0 ? " · current" : ""}
                    </div>
                  </div>
                  {older ? <Button aria-label={`Changes in ${short}`} onClick={() => void showChanges(older, version)}>Changes</Button> : null}
                  <Button aria-label={`Download ${short}`} onClick={() => void download(version)}>Download</Button>
                  {canRollback && index > 0 ? <Button aria-label={`Roll back to ${short}`} onClick={() => void rollback(version)}>Roll back</Button> : null}
                </li>
              );
            })}
          </ol>
        )}
      </LoadState>
      {diff ? <DiffView diff={diff} /> : null}
    </Dialog>
  );
}

type DetailChange = VersionDiff["changes"][number];

const CHANGE_COLUMNS: Column<DetailChange>[] = [
  { header: "Detail", cell: (change) => change.field },
  { header: "Before", className: "font-mono text-xs break-all", cell: (change) => String(change.old) },
  { header: "After", className: "font-mono text-xs break-all", cell: (change) => String(change.new) },
];

function DiffView({ diff }: { diff: VersionDiff }) {
  return (
    <section aria-label="Changes" className="mt-4 border-t border-slate-200 pt-3 dark:border-slate-800">
      <h3 className="mb-2 font-semibold">
        Changes from {diff.from_version.id.slice(0, 8)} to {diff.to_version.id.slice(0, 8)}
      </h3>
      {diff.identical ? <p className="text-sm">The two versions have the same content.</p> : null}
      {diff.kind === "text" && diff.unified ? (
        <pre className="max-h-80 overflow-auto rounded bg-slate-50 p-2 text-xs dark:bg-slate-950">
          {diff.unified.split("\n").map((line, index) => (
            <div key={index} className={line.startsWith("+") ? "text-emerald-700 dark:text-emerald-400" : line.startsWith("-") ? "text-red-700 dark:text-red-400" : ""}>
              {line}
            </div>
          ))}
        </pre>
      ) : null}
      {diff.kind !== "text" ? <p className="mb-2 text-sm">{diff.kind === "binary" ? "A binary file: its details are compared, not its bytes." : "Too large to compare line by line."}</p> : null}
      <DataTable
        caption="Compared details"
        columns={CHANGE_COLUMNS}
        rows={diff.changes}
        rowKey={(change) => change.field}
        cellPadding="pr-4"
        fullWidth={false}
        ruled={false}
        rowClassName={(change) => (change.changed ? "font-medium" : "text-slate-500")}
      />
    </section>
  );
}
