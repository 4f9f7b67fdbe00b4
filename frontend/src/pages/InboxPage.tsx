/** The inbox: every approval step waiting for the signed-in person's decision, oldest first. */
import { useEffect, useState } from "react";
import { type Approval, decideApproval, decidersWords, listInbox } from "../api/approvals";
import { errorText } from "../api/client";
import { DecisionForm } from "../approvals/DecisionForm";
import { when } from "../format";
import { navigate } from "../router";
import { type Account, TopBar } from "../ui/TopBar";

export function InboxPage({ account }: { account: Account }) {
  const [items, setItems] = useState<Approval[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [decided, setDecided] = useState<string | null>(null);

  const load = () => listInbox().then((a) => { setItems(a); setError(null); }, setError);
  useEffect(() => {
    load();
    const t = window.setInterval(load, 5000); // new requests arrive as runs reach their approval steps
    return () => window.clearInterval(t);
  }, []);

  return (
    <div className="page">
      <TopBar account={account} />
      <main className="graphs-page" data-testid="inbox-page">
        <h1>Inbox</h1>
        <p className="muted small">Runs that stopped for your decision. Each waits here without holding anything up; it goes on as soon as you decide.</p>
        {decided && <div className="notice" role="status" data-testid="inbox-decided">{decided}</div>}
        {error ? <div className="notice notice-error" role="alert">{errorText(error)}</div> : null}
        {items && items.length === 0 && <div className="empty" data-testid="inbox-empty"><h2>Nothing waits for you</h2><p>When a flow reaches an approval step you may decide, it shows up here.</p></div>}
        {items?.map((a) => (
          <section className="card inbox-item" key={a.id} data-testid={`inbox-item-${a.id}`}>
            <div className="row between">
              <span><b>{a.graph_name}</b> · step <code>{a.node_id}</code> · asked {when(a.requested_at)}</span>
              <a href={`/graphs/${a.graph}/runs/${a.run}`} onClick={(e) => { e.preventDefault(); navigate(`/graphs/${a.graph}/runs/${a.run}`); }}
                data-testid={`inbox-open-run-${a.id}`}>Open the run</a>
            </div>
            <p className="muted small">Who may decide: {decidersWords(a.deciders)}</p>
            <DecisionForm approval={a} onDecide={(d) => decideApproval(a.id, d)}
              onDone={() => { setDecided(`Decided “${a.title}”: the run goes on.`); load(); }} />
          </section>
        ))}
      </main>
    </div>
  );
}
