import { useEffect, useState } from "react";
import { type Theme, applyTheme, initialTheme, rememberTheme } from "../theme";

/** A switch between light and dark; the choice is remembered across visits. */
export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(initialTheme);

  useEffect(() => {
    applyTheme(theme);
  }, [theme]);

  const dark = theme === "dark";
  function toggle() {
    const next: Theme = dark ? "light" : "dark";
    rememberTheme(next);
    setTheme(next);
  }

  return (
    <button
      type="button"
      role="switch"
      aria-checked={dark}
      aria-label="Dark theme"
      title={dark ? "Switch to the light theme" : "Switch to the dark theme"}
      onClick={toggle}
      className="rounded-md p-2 text-slate-600 hover:bg-slate-200 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-slate-300 dark:hover:bg-slate-800"
    >
      <span aria-hidden="true">{dark ? "☾" : "☀"}</span>
    </button>
  );
}
