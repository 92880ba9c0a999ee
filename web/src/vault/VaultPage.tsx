/** `/vault`: files that cannot be merged, with who holds each one and every action on them. */
import { useEffect, useId, useState } from "react";
import { AuditLog } from "../admin/AuditLog";
import { useSession } from "../auth/AuthContext";
import { type Column, DataTable } from "../components/DataTable";
import { Dialog } from "../components/Dialog";
import { saveResponse } from "../components/download";
import { formatAge, formatBytes, formatTime, sentenceOf } from "../components/format";
import { LoadState } from "../components/LoadState";
import { Button, INPUT, Page } from "../components/Page";
import { useToast } from "../components/Toasts";
import { useQuery } from "../components/useQuery";
import { useLiveEvent, useOnReconnect } from "../live/LiveContext";
import { ComposeForm } from "../messages/MessagesPanel";
import { DEFAULT_VAULT, type FilePage, filesPath, type SortKey, type StatusFilter, type VaultFile, type VaultInfo } from "./api";
import { HistoryDialog, ReasonDialog, UploadDialog } from "./FileDialogs";

type Open =
  | { kind: FileAction; file: VaultFile }
  | { kind: "upload" }
  | null;

const WRITER_ROLES = ["admin", "project_owner", "priority_manager", "member"];

export const VAULT_STORAGE_KEY = "merge-assist.vault";

/** The vault to open: the one chosen last time if it is still there, else the one with the
 * most files (the default vault on a tie), else the current one. */
export function openingVault(found: VaultInfo[], current: string): string {
  const remembered = localStorage.getItem(VAULT_STORAGE_KEY);
  if (remembered && found.some((item) => item.name === remembered)) return remembered;
  const fullest = [...found].sort((a, b) => (b.file_count ?? 0) - (a.file_count ?? 0) || Number(b.is_default) - Number(a.is_default))[0];
  return fullest?.name ?? current;
}

export function VaultPage() {
  const { auth, user } = useSession();
  const toast = useToast();
  const id = useId();
  const [vaults, setVaults] = useState<VaultInfo[]>([]);
  const [vault, setVault] = useState(DEFAULT_VAULT);
  const [search, setSearch] = useState("");
  const [status, setStatus] = useState<StatusFilter>("");
  const [sort, setSort] = useState<SortKey>("name");
  const [descending, setDescending] = useState(false);
  const [open, setOpen] = useState<Open>(null);
  const isAdmin = user?.roles.includes("admin") ?? false;
  const canWrite = user?.roles.some((role) => WRITER_ROLES.includes(role)) ?? false;

  // The files are read once the vault to open is known: never the empty default one first.
  const [vaultKnown, setVaultKnown] = useState(false);

  useEffect(() => {
    auth.api
      .get<VaultInfo[]>("/api/vault/vaults")
      .then((found) => {
        if (!Array.isArray(found) || found.length === 0) return;
        setVaults(found);
        setVault((current) => openingVault(found, current));
      })
      .catch(() => undefined) // the default vault still answers below, or says why not
      .finally(() => setVaultKnown(true));
  }, [auth]);

  const params = new URLSearchParams({ sort, order: descending ? "desc" : "asc", limit: "200" });
  if (search.trim()) params.set("search", search.trim());
  if (status) params.set("status", status);
  const files = useQuery(() => (vaultKnown ? auth.api.get<FilePage>(`${filesPath(vault)}?${params}`) : new Promise<FilePage>(() => undefined)), [auth, vault, vaultKnown, search, status, sort, descending], "The vault could not be read.");
  const { reload } = files;

  useOnReconnect(reload);
  useLiveEvent("vault.file", reload);

  async function act(file: VaultFile, action: "undo-checkout") {
    try {
      await auth.api.post(filesPath(vault, file.id, action));
      toast.show(`${file.name} is released without a new version.`, "success");
      reload();
    } catch (failure) {
      toast.show(sentenceOf(failure, "The check-out could not be undone."), "error");
    }
  }

  async function sync() {
    try {
      const result = await auth.api.post<{ added: number; updated: number; ignored: number }>(`/api/vault/${encodeURIComponent(vault)}/sync`);
      const leftOut = result.ignored ? ` ${result.ignored} other file(s) are not vault files and were left out.` : "";
      toast.show(`Sync found ${result.added} new and ${result.updated} changed files.${leftOut}`, "success");
      reload();
    } catch (failure) {
      toast.show(sentenceOf(failure, "The sync failed."), "error");
    }
  }

  async function download(file: VaultFile) {
    try {
      const response = await auth.api.raw("GET", filesPath(vault, file.id, "content"), { headers: { Accept: "*/*" } });
      await saveResponse(response, file.name);
    } catch (failure) {
      toast.show(sentenceOf(failure, "The download failed."), "error");
    }
  }

  const done = () => {
    setOpen(null);
    reload();
  };
  const filtered = search.trim() !== "" || status !== "";

  return (
    <Page
      title="Vault"
      actions={
        canWrite ? (
          <>
            <Button onClick={() => void sync()} title="Record files added or changed in the vault's storage outside Merge Assist">
              Sync with storage
            </Button>
            <Button variant="primary" onClick={() => setOpen({ kind: "upload" })}>
              Upload a new file
            </Button>
          </>
        ) : null
      }
    >
      <form aria-label="File filters" onSubmit={(event) => event.preventDefault()} className="mb-3 flex flex-wrap items-end gap-3">
        {vaults.length > 1 ? (
          <label htmlFor={`${id}-vault`} className="flex flex-col gap-1 text-sm font-medium">
            Vault
            <select id={`${id}-vault`} value={vault} onChange={(e) => {
                localStorage.setItem(VAULT_STORAGE_KEY, e.target.value);
                setVault(e.target.value);
              }} className={INPUT}>
              {vaults.map((item) => (
                <option key={item.id} value={item.name}>{item.name}</option>
              ))}
            </select>
          </label>
        ) : null}
        <label htmlFor={`${id}-search`} className="flex min-w-56 flex-1 flex-col gap-1 text-sm font-medium">
          Search files
          <input id={`${id}-search`} type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="part of a name" className={INPUT} />
        </label>
        <label htmlFor={`${id}-status`} className="flex flex-col gap-1 text-sm font-medium">
          Status
          <select id={`${id}-status`} value={status} onChange={(e) => setStatus(e.target.value as StatusFilter)} className={INPUT}>
            <option value="">All files</option>
            <option value="available">Available</option>
            <option value="checked_out">Checked out</option>
            <option value="mine">Checked out by me</option>
          </select>
        </label>
        <label htmlFor={`${id}-sort`} className="flex flex-col gap-1 text-sm font-medium">
          Sort by
          <select id={`${id}-sort`} value={sort} onChange={(e) => setSort(e.target.value as SortKey)} className={INPUT}>
            <option value="name">Name</option>
            <option value="size">Size</option>
            <option value="status">Status</option>
            <option value="modified">Modified</option>
          </select>
        </label>
        <label className="flex items-center gap-2 pb-2 text-sm">
          <input type="checkbox" checked={descending} onChange={(e) => setDescending(e.target.checked)} /> Descending
        </label>
      </form>
      <LoadState
        data={files.data}
        error={files.error}
        onRetry={reload}
        loading="Loading files…"
        empty={filtered ? "No file matches these filters." : "No vault files yet."}
        emptyHint={filtered ? "Clear the search or choose “All files”." : "Files that cannot be merged (CAM programs, spreadsheets, models) live here. Use “Upload a new file” to add the first one."}
      >
        {(page) => (
          <>
            <p className="mb-2 text-sm text-slate-500" aria-live="polite">
              Showing {page.items.length} of {page.total}
              {filtered ? ` (${page.vault_total} in the vault)` : ""}
            </p>
            <DataTable
              caption="Vault files"
              columns={fileColumns({ canWrite, isAdmin, onOpen: (kind, file) => setOpen({ kind, file }), onUndo: (file) => void act(file, "undo-checkout"), onDownload: (file) => void download(file) })}
              rows={page.items}
              rowKey={(file) => file.id}
              cellPadding="px-3 py-2"
              rowClassName={() => "align-top"}
              framed
            />
          </>
        )}
      </LoadState>
      {open?.kind === "upload" ? <UploadDialog vault={vault} file={null} onClose={() => setOpen(null)} onDone={done} /> : null}
      {open?.kind === "checkin" ? <UploadDialog vault={vault} file={open.file} onClose={() => setOpen(null)} onDone={done} /> : null}
      {open?.kind === "checkout" || open?.kind === "force-unlock" ? <ReasonDialog vault={vault} file={open.file} mode={open.kind} onClose={() => setOpen(null)} onDone={done} /> : null}
      {open?.kind === "ask" && open.file.lock ? (
        <Dialog title={`Ask ${open.file.lock.holder.display_name} for ${open.file.name}`} onClose={() => setOpen(null)}>
          <ComposeForm
            onCancel={() => setOpen(null)}
            onSent={() => setOpen(null)}
            initial={{ to: open.file.lock.holder.username, subject: `Could you check in ${open.file.name}?`, relatedFile: open.file.path }}
          />
        </Dialog>
      ) : null}
      {open?.kind === "audit" ? (
        <Dialog title={`Audit of ${open.file.name}`} onClose={() => setOpen(null)} wide>
          <AuditLog title={`Every action on ${open.file.path}`} initial={{ target_type: "vault_file", target_id: String(open.file.id) }} />
        </Dialog>
      ) : null}
      {open?.kind === "history" ? <HistoryDialog vault={vault} file={open.file} canRollback={isAdmin || open.file.checked_out_by_me} onClose={() => setOpen(null)} onDone={done} /> : null}
    </Page>
  );
}

type FileAction = "checkout" | "force-unlock" | "checkin" | "history" | "audit" | "ask";

interface FileActions {
  canWrite: boolean;
  isAdmin: boolean;
  onOpen: (kind: FileAction, file: VaultFile) => void;
  onUndo: (file: VaultFile) => void;
  onDownload: (file: VaultFile) => void;
}

function fileColumns(actions: FileActions): Column<VaultFile>[] {
  return [
    {
      header: "File",
      cell: (file) => (
        <>
          <div className="font-medium">{file.name}</div>
          {file.path !== file.name ? <div className="text-xs text-slate-500">{file.path}</div> : null}
        </>
      ),
    },
    { header: "Status", cell: (file) => <FileStatus file={file} /> },
    { header: "Size", className: "whitespace-nowrap", cell: (file) => formatBytes(file.size) },
    { header: "Locked by", cell: (file) => (file.lock ? file.lock.holder.display_name : "—") },
    { header: "Since", className: "whitespace-nowrap", title: (file) => (file.lock ? formatTime(file.lock.since) : undefined), cell: (file) => (file.lock ? formatAge(file.lock.since) : "—") },
    { header: "Reason", className: "min-w-40 break-words", cell: (file) => file.lock?.reason ?? "—" },
    {
      header: "Modified",
      className: "whitespace-nowrap",
      cell: (file) => (
        <>
          {formatTime(file.updated_at)}
          {file.updated_by ? <div className="text-xs text-slate-500">{file.updated_by}</div> : null}
        </>
      ),
    },
    { header: "Actions", hideHeader: true, cell: (file) => <FileButtons file={file} actions={actions} /> },
  ];
}

function FileStatus({ file }: { file: VaultFile }) {
  if (!file.lock) return <span className="text-emerald-700 dark:text-emerald-400">available</span>;
  const mine = file.checked_out_by_me;
  return <span className={mine ? "text-indigo-700 dark:text-indigo-300" : "text-amber-700 dark:text-amber-400"}>{mine ? "checked out by you" : "checked out"}</span>;
}

function FileButtons({ file, actions }: { file: VaultFile; actions: FileActions }) {
  const { lock } = file;
  const mine = file.checked_out_by_me;
  const { canWrite, isAdmin } = actions;
  const onOpen = (kind: FileAction) => actions.onOpen(kind, file);
  return (
    <div className="flex min-w-56 flex-wrap gap-1 [&>button]:px-2 [&>button]:py-1 [&>button]:text-xs">
      {canWrite && !lock ? <Button aria-label={`Check out ${file.name}`} onClick={() => onOpen("checkout")}>Check out</Button> : null}
      {mine ? <Button variant="primary" aria-label={`Check in ${file.name}`} onClick={() => onOpen("checkin")}>Check in</Button> : null}
      {mine ? <Button aria-label={`Undo check-out of ${file.name}`} onClick={() => actions.onUndo(file)}>Undo</Button> : null}
      {canWrite && lock && !mine ? <Button aria-label={`Ask ${lock.holder.display_name} for ${file.name}`} onClick={() => onOpen("ask")}>Ask for it</Button> : null}
      {isAdmin && lock && !mine ? <Button variant="danger" aria-label={`Force unlock ${file.name}`} onClick={() => onOpen("force-unlock")}>Force</Button> : null}
      <Button aria-label={`History of ${file.name}`} onClick={() => onOpen("history")}>History</Button>
      <Button aria-label={`Download ${file.name}`} onClick={() => actions.onDownload(file)}>Download</Button>
      {isAdmin ? <Button aria-label={`Audit of ${file.name}`} onClick={() => onOpen("audit")}>Audit</Button> : null}
    </div>
  );
}
