import { type ReactNode, useEffect, useState } from "react";
import { BrowserRouter, Navigate, Route, Routes, useLocation } from "react-router";
import { api } from "./api/auth";
import { AuthProvider, useSession } from "./auth/AuthContext";
import { Shell } from "./components/Shell";
import { ToastProvider } from "./components/Toasts";
import { DEFAULT_SERVER_CONFIG, loadServerConfig, type ServerConfig } from "./config";
import { HealthPage } from "./health/HealthPage";
import { LoginPage } from "./pages/LoginPage";
import { MessagesPage } from "./messages/MessagesPage";
import { AdministrationPage } from "./admin/AdministrationPage";
import { LogsPage } from "./logs/LogsPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { QueuePage } from "./queue/QueuePage";
import { VaultPage } from "./vault/VaultPage";

function Checking() {
  return (
    <p role="status" className="p-8 text-center text-slate-500">
      Checking your session…
    </p>
  );
}

/** Signed-in pages only; others go to the login page and come back after. */
function RequireSession({ children }: { children: ReactNode }) {
  const { status } = useSession();
  const location = useLocation();
  if (status === "checking") return <Checking />;
  if (status === "signed-out") return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  return children;
}

function LoginRoute({ config }: { config: ServerConfig }) {
  const { status } = useSession();
  if (status === "checking") return <Checking />;
  if (status === "signed-in") return <Navigate to="/queue" replace />;
  return <LoginPage gitlabUrl={config.gitlabUrl} />;
}

/** The routes of the dashboard, inside whatever router the caller gives. */
export function AppRoutes({ config = DEFAULT_SERVER_CONFIG }: { config?: ServerConfig }) {
  return (
    <Routes>
      <Route path="/login" element={<LoginRoute config={config} />} />
      <Route
        element={
          <RequireSession>
            <Shell />
          </RequireSession>
        }
      >
        <Route index element={<Navigate to="/queue" replace />} />
        <Route path="queue" element={<QueuePage />} />
        <Route path="vault" element={<VaultPage />} />
        <Route path="messages" element={<MessagesPage />} />
        <Route path="logs" element={<LogsPage />} />
        <Route path="health" element={<HealthPage />} />
        <Route path="admin" element={<AdministrationPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}

export function App() {
  const [config, setConfig] = useState<ServerConfig>(DEFAULT_SERVER_CONFIG);
  useEffect(() => {
    void loadServerConfig(api).then(setConfig);
  }, []);
  return (
    <BrowserRouter>
      <ToastProvider>
        <AuthProvider>
          <AppRoutes config={config} />
        </AuthProvider>
      </ToastProvider>
    </BrowserRouter>
  );
}
