/** Per-project permissions (admin): who may manage the project and who may set priorities. */
import { type FormEvent, useEffect, useId, useState } from "react";
import { useSession } from "../auth/AuthContext";
import { type Column, DataTable } from "../components/DataTable";
import { sentenceOf } from "../components/format";
import { LoadState } from "../components/LoadState";
import { Button, Card, INPUT } from "../components/Page";
import { useToast } from "../components/Toasts";
import { useQuery } from "../components/useQuery";
import type { Project } from "../projects/ProjectContext";
import type { UserPage } from "./api";

export interface Permission {
  user_id: number;
  username: string;
  can_manage: boolean;
  can_set_priority: boolean;
}

function permissionColumns(remove: (row: Permission) => void): Column<Permission>[] {
  return [
    { header: "User", cell: (row) => row.username },
    { header: "Manage the project", cell: (row) => (row.can_manage ? "yes" : "no") },
    { header: "Set priorities", cell: (row) => (row.can_set_priority ? "yes" : "no") },
    {
      header: "Actions",
      hideHeader: true,
      cell: (row) => (
        <Button aria-label={`Remove ${row.username}'s permissions`} onClick={() => remove(row)}>
          Remove
        </Button>
      ),
    },
  ];
}

export function ProjectPermissions({ project }: { project: Project }) {
  const { auth } = useSession();
  const toast = useToast();
  const id = useId();
  const permissions = useQuery(() => auth.api.get<Permission[]>(`/api/projects/${project.id}/permissions`), [auth, project.id], "The permissions could not be loaded.");
  const [users, setUsers] = useState<UserPage["items"]>([]);
  const [userId, setUserId] = useState("");
  const [canManage, setCanManage] = useState(false);
  const [canSetPriority, setCanSetPriority] = useState(true);

  useEffect(() => {
    let cancelled = false;
    auth.api
      .get<UserPage>("/api/users?per_page=200")
      .then((page) => !cancelled && setUsers(page.items.filter((user) => user.is_active)))
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [auth, project.id]);

  async function grant(body: { user_id: number; can_manage: boolean; can_set_priority: boolean }, done: string) {
    try {
      permissions.setData(await auth.api.put<Permission[]>(`/api/projects/${project.id}/permissions`, body));
      toast.show(done, "success");
    } catch (failure) {
      toast.show(sentenceOf(failure, "The permission could not be changed."), "error");
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const user = users.find((item) => String(item.id) === userId);
    if (!user) return;
    void grant({ user_id: user.id, can_manage: canManage, can_set_priority: canSetPriority }, `${user.username}'s permissions on ${project.path_with_namespace} are set.`);
  }

  return (
    <Card title={`Permissions on ${project.path_with_namespace}`}>
      <LoadState data={permissions.data} error={permissions.error} loading="Loading the permissions…">
        {(rows) => (
          <DataTable
            caption="Project permissions"
            className="mb-3"
            columns={permissionColumns((row) => void grant({ user_id: row.user_id, can_manage: false, can_set_priority: false }, `${row.username}'s permissions are removed.`))}
            rows={rows}
            rowKey={(row) => row.user_id}
            empty={<p className="mb-3 text-sm text-slate-500">Nobody has a permission of their own here: global roles apply (admins and priority managers set priorities everywhere).</p>}
          />
        )}
      </LoadState>
      <form aria-label="Grant a permission" onSubmit={submit} className="flex flex-wrap items-end gap-3">
        <label htmlFor={`${id}-user`} className="flex flex-col gap-1 text-sm font-medium">
          Person
          <select id={`${id}-user`} value={userId} onChange={(e) => setUserId(e.target.value)} className={INPUT}>
            <option value="">Choose a person</option>
            {users.map((user) => (
              <option key={user.id} value={user.id}>{`${user.display_name} (${user.username})`}</option>
            ))}
          </select>
        </label>
        <label className="flex items-center gap-2 pb-2 text-sm">
          <input type="checkbox" checked={canSetPriority} onChange={(e) => setCanSetPriority(e.target.checked)} /> May set priorities
        </label>
        <label className="flex items-center gap-2 pb-2 text-sm">
          <input type="checkbox" checked={canManage} onChange={(e) => setCanManage(e.target.checked)} /> May manage the project
        </label>
        <Button type="submit" variant="primary" disabled={!userId}>Grant</Button>
      </form>
    </Card>
  );
}
