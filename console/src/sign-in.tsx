import { useState } from "hono/jsx/dom";
import { adminKey } from "./admin-key";
import { ApiFailure, api } from "./api";

/**
 * Asks for the admin key and checks it against an admin-only route before
 * keeping it: a wrong key is refused here, with the API's reason.
 */
export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const key = String(new FormData(form).get("key") ?? "").trim();
    if (!key) return setError("Enter the admin key.");
    setBusy(true);
    setError(null);
    try {
      await api("GET", "/api/v1/admin/session-pools", undefined, key);
      adminKey.keep(key);
      onSignedIn();
    } catch (err) {
      setError(
        err instanceof ApiFailure && err.status === 401
          ? `Refused: that is not this deployment's admin key (${err.message}).`
          : `Could not check the key: ${err instanceof Error ? err.message : String(err)}`,
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <h1>Operator console</h1>
      <p class="muted">Sign in with the deployment's admin key. It is kept in this tab only (session storage) and sent as a bearer token to this deployment's API.</p>
      <form onSubmit={submit}>
        <label>
          Admin key
          <input name="key" type="password" autocomplete="off" required autofocus aria-describedby={error ? "signin-error" : undefined} />
        </label>
        <button class="primary" type="submit" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
        {error ? (
          <p role="alert" id="signin-error">
            {error}
          </p>
        ) : null}
      </form>
    </main>
  );
}
