/**
 * The admin key lives in this tab's sessionStorage only: never in a URL,
 * never in localStorage or a cookie, gone when the tab closes.
 */
const STORAGE_KEY = "cortensor-console-admin-key";

export const adminKey = {
  read: (): string | null => sessionStorage.getItem(STORAGE_KEY),
  keep: (key: string) => sessionStorage.setItem(STORAGE_KEY, key),
  forget: () => sessionStorage.removeItem(STORAGE_KEY),
};
