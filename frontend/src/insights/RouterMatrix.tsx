/** A router's confusion matrix: rows are the right route (people's labels), columns the route it took. */
import type { RouterMetrics } from "./api";
import { heat, percent } from "./numbers";

export function RouterMatrix({ router }: { router: RouterMetrics }) {
  const rows = router.matrix.filter((row) => Object.values(row.counts).some(Boolean) || router.routes.includes(row.true));
  return (
    <section className="insight-card" data-testid={`router-${router.node_id}`}>
      <h3>Router '{router.node_id}'</h3>
      <p className="muted small">
        {router.runs} runs; {router.labelled} labelled by a person. {percent(router.default_share)} went to the default route.
      </p>
      {router.labelled === 0 ? (
        <p className="small" data-testid="router-no-labels">No run is labelled yet: open a run's trace, pick this step and say which route was right.</p>
      ) : (
        <table className="confusion" data-testid="confusion-matrix">
          <thead>
            <tr><th>Right route ↓ / took →</th>{router.routes.map((r) => <th key={r}>{r}</th>)}</tr>
          </thead>
          <tbody>
            {rows.map((row) => {
              const total = Object.values(row.counts).reduce((a, b) => a + b, 0);
              return (
                <tr key={row.true}>
                  <th>{row.true}</th>
                  {router.routes.map((c) => (
                    <td key={c} style={{ background: heat(row.counts[c] ?? 0, total, c === row.true) }} data-testid={`cell-${row.true}-${c}`}>
                      {row.counts[c] ?? 0}
                    </td>
                  ))}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <table className="route-stats" data-testid="route-stats">
        <thead><tr><th>Route</th><th>Runs sent</th><th>Precision</th><th>Recall</th></tr></thead>
        <tbody>
          {router.per_route.map((r) => (
            <tr key={r.route} data-testid={`route-stat-${r.route}`}>
              <td>{r.route}</td><td>{r.chosen}</td><td>{percent(r.precision)}</td><td>{percent(r.recall)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted small">Precision: of the labelled runs sent down a route, how many belonged there. Recall: of the runs that belonged to a route, how many went there.</p>
    </section>
  );
}
