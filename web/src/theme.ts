/**
 * Light/dark theme, remembered in localStorage (a preference, not a secret). Without a stored
 * choice the system's `prefers-color-scheme` decides.
 */
export type Theme = "light" | "dark";

export const THEME_STORAGE_KEY = "merge-assist.theme";

export function storedTheme(): Theme | null {
  try {
    const value = localStorage.getItem(THEME_STORAGE_KEY);
    return value === "light" || value === "dark" ? value : null;
  } catch {
    return null; // storage disabled (private mode): fall back to the system's choice
  }
}

export function systemTheme(): Theme {
  return typeof window.matchMedia === "function" &&
    window.matchMedia("(prefers-color-scheme: dark)").matches
    ? "dark"
    : "light";
}

export function initialTheme(): Theme {
  return storedTheme() ?? systemTheme();
}

/** Show the theme: the `dark` class on <html> drives Tailwind's `dark:` variants. */
export function applyTheme(theme: Theme, root: HTMLElement = document.documentElement): void {
  root.classList.toggle("dark", theme === "dark");
  root.style.colorScheme = theme;
}

export function rememberTheme(theme: Theme): void {
  try {
    localStorage.setItem(THEME_STORAGE_KEY, theme);
  } catch {
    // Storage disabled: the choice lasts for this page only.
  }
}
