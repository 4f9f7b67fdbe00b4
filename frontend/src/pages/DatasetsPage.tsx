/** Datasets: real inputs (from traces, files or live traffic) and what a good answer is, to score changes on. */
import { useEffect, useState } from "react";
import { createDataset, type Dataset, listDatasets } from "../api/evals";
import { errorText } from "../api/client";
import { navigate } from "../router";
import type { Account } from "../ui/TopBar";
import { TopBar } from "../ui/TopBar";
import { DatasetDetail } from "../evals/DatasetDetail";

function NewDataset({ onMade }: { onMade: (d: Dataset) => void }) {
  const [name, setName] = useState("");
  const [heldOut, setHeldOut] = useState(false);
  const [error, setError] = useState("");
  const make = async () => {
    try {
      onMade(await createDataset({ name: name.trim(), held_out: heldOut }));
      setName("");
      setError("");
    } catch (e) {
      setError(errorText(e));
    }
  };
  return (
    <div className="row dataset-new">
      <input aria-label="New dataset name" placeholder="New dataset name" value={name} onChange={(e) => setName(e.target.value)} data-testid="dataset-name" />
      <label className="small"><input type="checkbox" checked={heldOut} onChange={(e) => setHeldOut(e.target.checked)} data-testid="dataset-held-out" /> Held out (only for scoring)</label>
      <button className="btn btn-primary" disabled={!name.trim()} onClick={make} data-testid="dataset-create">Create dataset</button>
      {error && <span className="error small" role="alert">{error}</span>}
    </div>
  );
}

function DatasetList({ datasets }: { datasets: Dataset[] }) {
  if (!datasets.length) return <p className="muted" data-testid="datasets-empty">No datasets yet. Create one, or open a run's trace and press "Add to dataset".</p>;
  return (
    <table className="table" data-testid="datasets-table">
      <thead><tr><th>Name</th><th>Items</th><th>Use</th><th>Live sampling</th></tr></thead>
      <tbody>
        {datasets.map((d) => (
          <tr key={d.id} data-testid={`dataset-row-${d.id}`}>
            <td><a href={`/datasets/${d.id}`} onClick={(e) => { e.preventDefault(); navigate(`/datasets/${d.id}`); }}>{d.name}</a></td>
            <td>{d.items ?? 0}</td>
            <td>{d.held_out ? "Held out: scoring only" : "Scoring and examples"}</td>
            <td>{d.sampling.length ? d.sampling.map((s) => `${Math.round(s.rate * 100)} % of flow ${s.graph}`).join(", ") : "off"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function DatasetsPage({ account, datasetId }: { account: Account; datasetId: number | null }) {
  const [datasets, setDatasets] = useState<Dataset[]>([]);
  const [error, setError] = useState("");
  const load = () => listDatasets().then(setDatasets, (e) => setError(errorText(e)));
  useEffect(() => { load(); }, [datasetId]);
  return (
    <div className="page">
      <TopBar account={account} />
      <main className="graphs-page" data-testid="datasets-page">
        {datasetId !== null ? (
          <DatasetDetail id={datasetId} onChanged={load} />
        ) : (
          <>
            <h1>Datasets</h1>
            <p className="muted small">Real inputs with the answer you expect, to score a flow before a change goes live. A held-out dataset is only used for scoring, never shown to a model as an example.</p>
            <NewDataset onMade={(d) => navigate(`/datasets/${d.id}`)} />
            {error && <div className="notice notice-error" role="alert">{error}</div>}
            <DatasetList datasets={datasets} />
          </>
        )}
      </main>
    </div>
  );
}
