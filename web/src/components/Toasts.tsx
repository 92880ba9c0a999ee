import { createContext, type ReactNode, useCallback, useContext, useMemo, useRef, useState } from "react";

export type ToastKind = "info" | "success" | "error";

export interface Toast {
  id: number;
  kind: ToastKind;
  message: string;
}

interface ToastApi {
  /** Show a message for a few seconds (errors stay until dismissed). */
  show(message: string, kind?: ToastKind): void;
  dismiss(id: number): void;
}

const ToastContext = createContext<ToastApi | null>(null);

const KIND_STYLE: Record<ToastKind, string> = {
  info: "border-slate-300 bg-white dark:border-slate-700 dark:bg-slate-900",
  success: "border-emerald-400 bg-emerald-50 dark:border-emerald-700 dark:bg-emerald-950",
  error: "border-red-400 bg-red-50 dark:border-red-700 dark:bg-red-950",
};

/** Holds the toasts and renders them in live regions that screen readers announce. */
export function ToastProvider({
  children,
  durationMs = 5000,
}: {
  children: ReactNode;
  durationMs?: number;
}) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);

  const dismiss = useCallback((id: number) => {
    setToasts((current) => current.filter((toast) => toast.id !== id));
  }, []);

  const show = useCallback(
    (message: string, kind: ToastKind = "info") => {
      const id = nextId.current++;
      setToasts((current) => [...current, { id, kind, message }]);
      if (kind !== "error") setTimeout(() => dismiss(id), durationMs);
    },
    [dismiss, durationMs],
  );

  const api = useMemo(() => ({ show, dismiss }), [show, dismiss]);
  const polite = toasts.filter((toast) => toast.kind !== "error");
  const urgent = toasts.filter((toast) => toast.kind === "error");

  return (
    <ToastContext.Provider value={api}>
      {children}
      <div className="pointer-events-none fixed right-4 bottom-4 z-50 flex w-80 flex-col gap-2">
        <div role="status" aria-live="polite" aria-label="Notifications" className="flex flex-col gap-2">
          {polite.map((toast) => (
            <ToastItem key={toast.id} toast={toast} onDismiss={dismiss} />
          ))}
        </div>
        <div role="alert" aria-live="assertive" aria-label="Errors" className="flex flex-col gap-2">
          {urgent.map((toast) => (
            <ToastItem key={toast.id} toast={toast} onDismiss={dismiss} />
          ))}
        </div>
      </div>
    </ToastContext.Provider>
  );
}

function ToastItem({ toast, onDismiss }: { toast: Toast; onDismiss: (id: number) => void }) {
  return (
    <div
      className={`pointer-events-auto flex items-start gap-2 rounded-md border p-3 text-sm shadow ${KIND_STYLE[toast.kind]}`}
    >
      <span className="flex-1">{toast.message}</span>
      <button
        type="button"
        aria-label="Dismiss notification"
        onClick={() => onDismiss(toast.id)}
        className="rounded px-1 text-slate-500 hover:text-slate-900 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:hover:text-white"
      >
        <span aria-hidden="true">×</span>
      </button>
    </div>
  );
}

/** The toast functions of the nearest provider. */
export function useToast(): ToastApi {
  const api = useContext(ToastContext);
  if (!api) throw new Error("useToast must be used inside <ToastProvider>");
  return api;
}
