import { type KeyboardEvent, useEffect, useId, useRef, useState } from "react";
import type { CurrentUser } from "../api/auth";

export interface UserMenuProps {
  user: CurrentUser | null;
  onLogout: () => void;
  /** End every sign-in of the person (other browsers and devices too). */
  onLogoutEverywhere: () => void;
  /** Delete the GitLab token the server keeps since a sign-in with it. */
  onForgetGitLabToken?: () => void;
}

const ITEM =
  "block w-full rounded px-3 py-2 text-left text-sm hover:bg-slate-100 focus:bg-slate-100 focus:outline-none dark:hover:bg-slate-800 dark:focus:bg-slate-800";

/**
 * The signed-in person's name, roles, the logout actions and "forget my GitLab token", in a
 * keyboard-friendly menu
 * (arrows, Home and End move between the items).
 */
export function UserMenu({ user, onLogout, onLogoutEverywhere, onForgetGitLabToken }: UserMenuProps) {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const firstItem = useRef<HTMLButtonElement>(null);
  const container = useRef<HTMLDivElement>(null);
  const menuId = useId();
  const name = user?.display_name || user?.username || "Account";

  useEffect(() => {
    if (!open) return;
    firstItem.current?.focus();
    function onPointer(event: PointerEvent) {
      if (!container.current?.contains(event.target as Node)) setOpen(false);
    }
    document.addEventListener("pointerdown", onPointer);
    return () => document.removeEventListener("pointerdown", onPointer);
  }, [open]);

  function onMenuKey(event: KeyboardEvent) {
    if (event.key === "Escape" || event.key === "Tab") {
      setOpen(false);
      if (event.key === "Escape") button.current?.focus();
      return;
    }
    const items = Array.from(container.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? []);
    const at = items.indexOf(document.activeElement as HTMLElement);
    if (at < 0) return;
    const next = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: items.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    items[(next + items.length) % items.length]?.focus();
  }

  function choose(action: () => void) {
    setOpen(false);
    action();
  }

  return (
    <div ref={container} className="relative" onKeyDown={onMenuKey}>
      <button
        ref={button}
        type="button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={menuId}
        aria-label={`Account menu for ${name}`}
        onClick={() => setOpen((value) => !value)}
        onKeyDown={(event) => {
          if (event.key === "ArrowDown") {
            event.preventDefault();
            setOpen(true);
          }
        }}
        className="flex items-center gap-2 rounded-md px-2 py-1 text-sm hover:bg-slate-200 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:hover:bg-slate-800"
      >
        <span
          aria-hidden="true"
          className="flex h-7 w-7 items-center justify-center rounded-full bg-indigo-600 text-xs font-semibold text-white"
        >
          {name.slice(0, 1).toUpperCase()}
        </span>
        <span className="hidden sm:inline">{name}</span>
      </button>
      {open ? (
        <div
          id={menuId}
          role="menu"
          aria-label="Account"
          className="absolute right-0 z-40 mt-2 w-56 rounded-md border border-slate-200 bg-white p-1 shadow-lg dark:border-slate-700 dark:bg-slate-900"
        >
          <div className="px-3 py-2 text-xs text-slate-500 dark:text-slate-400" role="none">
            <div className="font-medium text-slate-800 dark:text-slate-200">{user?.username}</div>
            {user?.email ? <div>{user.email}</div> : null}
            {user?.roles.length ? <div>Roles: {user.roles.join(", ")}</div> : null}
          </div>
          <button ref={firstItem} type="button" role="menuitem" onClick={() => choose(onLogout)} className={ITEM}>
            Log out
          </button>
          <button
            type="button"
            role="menuitem"
            title="Ends your sign-ins in every browser and on every device"
            onClick={() => choose(onLogoutEverywhere)}
            className={ITEM}
          >
            Log out everywhere
          </button>
          {onForgetGitLabToken ? (
            <button
              type="button"
              role="menuitem"
              title="Deletes the GitLab token this server keeps since you signed in with it"
              onClick={() => choose(onForgetGitLabToken)}
              className={ITEM}
            >
              Forget my GitLab token
            </button>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
