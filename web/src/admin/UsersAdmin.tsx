/** People and their roles: search, create, edit roles and details, deactivate. */
import { type FormEvent, useId, useState } from "react";
import { useSession } from "../auth/AuthContext";
import { type Column, DataTable } from "../components/DataTable";
import { Dialog } from "../components/Dialog";
import { sentenceOf } from "../components/format";
import { LoadState } from "../components/LoadState";
import { Button, Card, describedBy, Field, INPUT } from "../components/Page";
import { useToast } from "../components/Toasts";
import { useQuery } from "../components/useQuery";
import { ROLE_LABEL, ROLES, type User, type UserPage } from "./api";
import { useFormErrors } from "./useFormErrors";

export function UsersAdmin() {
  const { auth } = useSession();
  const toast = useToast();
  const searchId = useId();
  const [query, setQuery] = useState("");
  const [editing, setEditing] = useState<User | "new" | null>(null);
  const q = query.trim() ? `&q=${encodeURIComponent(query.trim())}` : "";
  const users = useQuery(() => auth.api.get<UserPage>(`/api/users?per_page=100${q}`), [auth, q], "The users could not be loaded.");
  const { reload } = users;

  async function deactivate(user: User) {
    try {
      await auth.api.post(`/api/users/${user.id}/deactivate`);
      toast.show(`${user.username} is deactivated and signed out everywhere.`, "success");
      reload();
    } catch (failure) {
      toast.show(sentenceOf(failure, "The user could not be deactivated."), "error");
    }
  }

  return (
    <Card title="Users and roles">
      <div className="mb-3 flex flex-wrap items-end gap-3">
        <label htmlFor={searchId} className="flex flex-col gap-1 text-sm font-medium">
          Search users
          <input id={searchId} type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="name or email" className={INPUT} />
        </label>
        <Button variant="primary" className="ml-auto" onClick={() => setEditing("new")}>
          Add a user
        </Button>
      </div>
      <LoadState
        data={users.data}
        error={users.error}
        onRetry={reload}
        loading="Loading users…"
        empty={query ? `No user matches “${query}”.` : "No users yet."}
        emptyHint="Add one with “Add a user”; people who sign in with a GitLab token are added by themselves."
      >
        {(page) => (
          <>
            <DataTable caption="Users" columns={userColumns(setEditing, (user) => void deactivate(user))} rows={page.items} rowKey={(user) => user.id} />
            <p className="mt-2 text-xs text-slate-500">Showing {page.items.length} of {page.total}.</p>
          </>
        )}
      </LoadState>
      {editing ? (
        <UserDialog
          user={editing === "new" ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            reload();
          }}
        />
      ) : null}
    </Card>
  );
}

function userColumns(edit: (user: User) => void, deactivate: (user: User) => void): Column<User>[] {
  return [
    {
      header: "User",
      cell: (user) => (
        <>
          <div className="font-medium">{user.display_name}</div>
          <div className="text-xs text-slate-500">{user.username}</div>
        </>
      ),
    },
    { header: "Email", cell: (user) => user.email ?? "—" },
    { header: "Roles", cell: (user) => user.roles.map((role) => ROLE_LABEL[role] ?? role).join(", ") || "—" },
    { header: "Sign-in", cell: (user) => [user.has_password ? "password" : "", user.gitlab_user_id ? "GitLab" : ""].filter(Boolean).join(", ") || "—" },
    { header: "Status", cell: (user) => (user.is_active ? "active" : "deactivated") },
    {
      header: "Actions",
      hideHeader: true,
      className: "whitespace-nowrap",
      cell: (user) => (
        <>
          <Button aria-label={`Edit ${user.username}`} onClick={() => edit(user)}>Edit</Button>{" "}
          {user.is_active ? (
            <Button variant="danger" aria-label={`Deactivate ${user.username}`} onClick={() => deactivate(user)}>
              Deactivate
            </Button>
          ) : null}
        </>
      ),
    },
  ];
}

function UserDialog({ user, onClose, onSaved }: { user: User | null; onClose: () => void; onSaved: () => void }) {
  const { auth } = useSession();
  const toast = useToast();
  const id = useId();
  const [username, setUsername] = useState("");
  const [displayName, setDisplayName] = useState(user?.display_name ?? "");
  const [email, setEmail] = useState(user?.email ?? "");
  const [password, setPassword] = useState("");
  const [roles, setRoles] = useState<string[]>(user?.roles ?? ["member"]);
  const [active, setActive] = useState(user?.is_active ?? true);
  const [busy, setBusy] = useState(false);
  const errors = useFormErrors(["username", "display_name", "email", "password", "roles", "is_active"]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    errors.clear();
    setBusy(true);
    try {
      if (user) {
        const body: Record<string, unknown> = { display_name: displayName, email: email.trim() || null, roles, is_active: active };
        if (password) body.password = password;
        await auth.api.request("PATCH", `/api/users/${user.id}`, { body });
        toast.show(`${user.username} is updated.`, "success");
      } else {
        const body: Record<string, unknown> = { username, password, roles };
        if (displayName.trim()) body.display_name = displayName;
        if (email.trim()) body.email = email.trim();
        await auth.api.post("/api/users", body);
        toast.show(`${username} can now sign in.`, "success");
      }
      onSaved();
    } catch (failure) {
      errors.take(failure, "The user could not be saved.");
    } finally {
      setBusy(false);
    }
  }

  const text = (key: string, label: string, value: string, change: (v: string) => void, type = "text", hint?: string) => (
    <Field label={label} id={`${id}-${key}`} error={errors.field(key)} {...(hint && { hint })}>
      <input id={`${id}-${key}`} type={type} value={value} onChange={(e) => change(e.target.value)} autoComplete={type === "password" ? "new-password" : "off"} className={INPUT} {...describedBy(`${id}-${key}`, !!hint, errors.field(key))} />
    </Field>
  );

  return (
    <Dialog title={user ? `Edit ${user.username}` : "Add a user"} onClose={onClose}>
      <form aria-label={user ? `Edit ${user.username}` : "Add a user"} onSubmit={(event) => void submit(event)} className="flex flex-col gap-3" noValidate>
        {errors.form ? <p role="alert" className="text-sm text-red-700 dark:text-red-400">{errors.form}</p> : null}
        {user ? null : text("username", "Username", username, setUsername, "text", "3 to 64 letters, digits, dots, underscores or hyphens.")}
        {text("display_name", "Display name", displayName, setDisplayName)}
        {text("email", "Email", email, setEmail, "email")}
        {text("password", user ? "New password (optional)" : "Password", password, setPassword, "password", "At least 12 characters.")}
        <fieldset aria-describedby={errors.field("roles") ? `${id}-roles-error` : undefined}>
          <legend className="mb-1 text-sm font-medium">Roles</legend>
          <div className="grid grid-cols-2 gap-1 text-sm">
            {ROLES.map((role) => (
              <label key={role} className="flex items-center gap-2">
                <input type="checkbox" checked={roles.includes(role)} onChange={(e) => setRoles((current) => (e.target.checked ? [...current, role] : current.filter((r) => r !== role)))} />
                {ROLE_LABEL[role]}
              </label>
            ))}
          </div>
          {errors.field("roles") ? <p id={`${id}-roles-error`} className="text-xs text-red-700">{errors.field("roles")}</p> : null}
        </fieldset>
        {user ? (
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" checked={active} onChange={(e) => setActive(e.target.checked)} /> Active
          </label>
        ) : null}
        <div className="flex gap-2">
          <Button type="submit" variant="primary" disabled={busy}>
            {user ? "Save" : "Create user"}
          </Button>
          <Button onClick={onClose}>Cancel</Button>
        </div>
      </form>
    </Dialog>
  );
}
