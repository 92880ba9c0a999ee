/** `/admin`: projects and their settings, users and roles, the AI summary, the audit log. */
import { useState } from "react";
import { useSession } from "../auth/AuthContext";
import { Notice, Page } from "../components/Page";
import { Tabs } from "../components/Tabs";
import { AssistantAdmin } from "./AssistantAdmin";
import { AuditLog } from "./AuditLog";
import { ProjectsAdmin } from "./ProjectsAdmin";
import { UsersAdmin } from "./UsersAdmin";

type Section = "projects" | "users" | "assistant" | "audit";

export function AdministrationPage() {
  const { user, status } = useSession();
  const [section, setSection] = useState<Section>("projects");
  if (status === "checking" || !user) return <Page title="Administration"><p role="status">Checking your roles…</p></Page>;
  const isAdmin = user?.roles.includes("admin") ?? false;
  const canConfigure = isAdmin || (user?.roles.includes("project_owner") ?? false);
  if (!canConfigure) {
    return (
      <Page title="Administration">
        <Notice title="Administration needs the admin or project owner role.">Ask an administrator if you need to change projects, users or roles.</Notice>
      </Page>
    );
  }
  const tabs: { key: Section; label: string }[] = isAdmin
    ? [
        { key: "projects", label: "Projects" },
        { key: "users", label: "Users and roles" },
        { key: "assistant", label: "AI summary" },
        { key: "audit", label: "Audit log" },
      ]
    : [{ key: "projects", label: "Projects" }];
  return (
    <Page title="Administration">
      <Tabs label="Administration sections" tabs={tabs} selected={section} onSelect={setSection}>
        {section === "projects" ? <ProjectsAdmin isAdmin={isAdmin} /> : null}
        {section === "users" ? <UsersAdmin /> : null}
        {section === "assistant" ? <AssistantAdmin /> : null}
        {section === "audit" ? <AuditLog /> : null}
      </Tabs>
    </Page>
  );
}
