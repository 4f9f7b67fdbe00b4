import { lazy, Suspense, useEffect, useState } from "react";
import { setSignedOutHandler } from "./api/client";
import { getSession, signOut } from "./api/endpoints";
import type { Session } from "./api/types";
import { ApiKeysPage } from "./pages/ApiKeysPage";
import { AuditPage } from "./pages/AuditPage";
import { DatasetsPage } from "./pages/DatasetsPage";
import { EvalsPage } from "./pages/EvalsPage";
import { EditorPage } from "./pages/EditorPage";
import { DecidePage } from "./pages/DecidePage";
import { EndpointsPage } from "./pages/EndpointsPage";
import { GraphsPage } from "./pages/GraphsPage";
import { InboxPage } from "./pages/InboxPage";
import { LoginPage } from "./pages/LoginPage";
import { MembersPage } from "./pages/MembersPage";
import { ModelsPage } from "./pages/ModelsPage";
import { navigate, parseRoute, usePath } from "./router";
import { ErrorBoundary } from "./ui/ErrorBoundary";
import { Toasts } from "./ui/toasts";

// The charts library is big: the Insights page loads it only when it is opened.
const InsightsPage = lazy(() => import("./insights/InsightsPage"));


export function App() {
  const path = usePath();
  const route = parseRoute(path);
  const [session, setSession] = useState<Session | null>(null);
  const [offline, setOffline] = useState<string | null>(null);

  const refresh = () =>
    getSession().then(
      (s) => {
        setSession(s);
        setOffline(null);
      },
      () => setOffline("Patchbay cannot be reached right now. Check that the server is running, then try again."),
    );

  useEffect(() => {
    refresh();
    setSignedOutHandler(() => setSession((s) => (s ? { ...s, authenticated: false, user: null } : s)));
    return () => setSignedOutHandler(null);
  }, []);

  let body;
  if (route.page === "decide") {
    body = <DecidePage token={route.token} />; // a signed link: no account needed
  } else if (offline) {
    body = (
      <div className="center-page">
        <div className="card narrow" role="alert">
          <h1>Patchbay</h1>
          <p>{offline}</p>
          <button className="btn btn-primary" onClick={refresh}>Try again</button>
        </div>
      </div>
    );
  } else if (!session) {
    body = <div className="center-page muted">Loading…</div>;
  } else if (!session.authenticated) {
    body = <LoginPage onSignedIn={(s) => { setSession(s); if (route.page === "login") navigate("/", { replace: true, force: true }); }} />;
  } else {
    const header = {
      user: session.user?.username ?? "",
      onSignOut: () => signOut().finally(() => { setSession({ ...session, authenticated: false, user: null }); navigate("/", { force: true }); }),
    };
    if (route.page === "audit") body = <AuditPage account={header} workspace={session.workspace ?? null} isStaff={session.user?.is_staff ?? false} />;
    else if (route.page === "editor") body = <EditorPage key={String(route.graphId)} graphId={route.graphId} runId={route.runId} account={header} />;
    else if (route.page === "endpoints") body = <EndpointsPage account={header} role={session.workspace?.role ?? null} />;
    else if (route.page === "apiKeys") body = <ApiKeysPage account={header} role={session.workspace?.role ?? null} />;
    else if (route.page === "members" && session.workspace) body = <MembersPage account={header} workspace={session.workspace} />;
    else if (route.page === "insights") body = <Suspense fallback={<p className="muted">Loading…</p>}><InsightsPage account={header} graphId={route.graphId} /></Suspense>;
    else if (route.page === "datasets") body = <DatasetsPage account={header} datasetId={route.datasetId} />;
    else if (route.page === "evals") body = <EvalsPage account={header} evalId={route.evalId} compareWith={route.compareWith} />;
    else if (route.page === "inbox") body = <InboxPage account={header} />;
    else if (route.page === "models") body = <ModelsPage account={header} isStaff={session.user?.is_staff ?? false} />;
    else if (route.page === "missing") body = (
      <div className="center-page">
        <div className="card narrow"><h1>Not found</h1><p>There is no page here.</p><button className="btn btn-primary" onClick={() => navigate("/")}>Go to your flows</button></div>
      </div>
    );
    else body = <GraphsPage account={header} workspace={session.workspace?.name ?? ""} />;
  }
  return (
    <ErrorBoundary area="page" onReset={() => location.reload()}>
      {body}
      <Toasts />
    </ErrorBoundary>
  );
}
