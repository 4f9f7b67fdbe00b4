/** In a finished run's trace: add the run (its input, its answer as the expected one, its route) to a dataset. */
import { useState } from "react";
import { errorText } from "../api/client";
import { addRunToDataset, type Dataset, listDatasets } from "../api/evals";
import { toast } from "../ui/toasts";

export function AddToDataset({ runId }: { runId: string }) {
  const [datasets, setDatasets] = useState<Dataset[] | null>(null);
  const open = () => listDatasets().then(setDatasets, (e) => toast.error(errorText(e)));
  const add = async (d: Dataset) => {
    try {
      await addRunToDataset(d.id, runId);
      toast.success(`Added this run to "${d.name}".`);
      setDatasets(null);
    } catch (e) {
      toast.error(errorText(e));
    }
  };
  return (
    <span className="pages-menu">
      <button className="btn btn-small" onClick={() => (datasets ? setDatasets(null) : open())} data-testid="add-to-dataset">Add to dataset</button>
      {datasets && (
        <div className="menu menu-right" role="menu" data-testid="add-to-dataset-menu">
          {datasets.length === 0 && <span className="muted small">No datasets yet: make one on the Datasets page.</span>}
          {datasets.map((d) => <button key={d.id} role="menuitem" onClick={() => add(d)} data-testid={`add-to-dataset-${d.id}`}>{d.name}</button>)}
        </div>
      )}
    </span>
  );
}
