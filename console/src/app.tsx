import { useEffect, useState } from "hono/jsx/dom";
import { adminKey } from "./admin-key";
import { whenKeyRefused } from "./api";
import { type Route, useRoute } from "./route";
import { SignIn } from "./sign-in";
import { Overview } from "./screens/overview";
import { Miners } from "./screens/miners";
import { Sessions } from "./screens/sessions";
import { TaskTimeline } from "./screens/task-timeline";
import { Gateway } from "./screens/gateway";
import { Chain } from "./screens/chain";
import { Rewards } from "./screens/rewards";

const TABS: { screen: Route["screen"]; href: string; label: string }[] = [
  { screen: "overview", href: "#overview", label: "Overview" },
  { screen: "miners", href: "#miners", label: "Miners" },
  { screen: "sessions", href: "#sessions", label: "Sessions & tasks" },
  { screen: "gateway", href: "#gateway", label: "Gateway" },
  { screen: "chain", href: "#chain", label: "Chain & receipts" },
  { screen: "rewards", href: "#rewards", label: "Rewards" },
];

function Screen({ route }: { route: Route }) {
  switch (route.screen) {
    case "overview":
      return <Overview />;
    case "miners":
      return <Miners />;
    case "sessions":
      return <Sessions sessionId={route.sessionId} />;
    case "task":
      return <TaskTimeline sessionId={route.sessionId} taskId={route.taskId} />;
    case "gateway":
      return <Gateway customerId={route.customerId} />;
    case "chain":
      return <Chain />;
    case "rewards":
      return <Rewards />;
  }
}

export function App() {
  const [signedIn, setSignedIn] = useState(adminKey.read() !== null);
  const route = useRoute();
  useEffect(
    () =>
      whenKeyRefused(() => {
        adminKey.forget();
        setSignedIn(false);
      }),
    [],
  );
  if (!signedIn) return <SignIn onSignedIn={() => setSignedIn(true)} />;
  const current = route.screen === "task" ? "sessions" : route.screen;
  return (
    <>
      <header class="top">
        <h1>Operator console</h1>
        <nav class="tabs" aria-label="Screens">
          <ul>
            {TABS.map((t) => (
              <li>
                <a href={t.href} aria-current={t.screen === current ? "page" : undefined}>
                  {t.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="spacer" />
        <button
          type="button"
          onClick={() => {
            adminKey.forget();
            setSignedIn(false);
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main" tabindex={-1}>
        <Screen route={route} />
      </main>
    </>
  );
}
