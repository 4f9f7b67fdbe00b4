/** Actions on the view and the file: fit, tidy, add a step in the middle, import into this flow, export it. */
import { useReactFlow } from "@xyflow/react";
import { useMemo } from "react";
import { errorText } from "../../api/client";
import { loadGraphChoices } from "../../api/hooks";
import { downloadSpec, FileProblem, pickFile, readSpecFile } from "../../files";
import { portableRefs, withRefNames } from "../../graph-core";
import { useEditorUi } from "../../stores/editorUi";
import { useGraph } from "../../stores/graphStore";
import { toast } from "../../ui/toasts";

export interface CanvasActions {
  fit(): void;
  tidy(): void;
  addAtCenter(type: string): void;
  importInto(): Promise<void>;
  exportSpec(): Promise<void>;
}

/** The view's actions; `workspace` makes imported subgraph references point at this workspace's flows. */
export function useCanvasActions(defaultModel: string | undefined, workspace: number | null): CanvasActions {
  const flow = useReactFlow();
  return useMemo(() => {
    const fit = () => flow.fitView({ padding: 0.2, duration: 200 });
    return {
      fit,
      tidy() {
        useGraph.getState().autoLayout();
        requestAnimationFrame(fit);
      },
      addAtCenter(type: string) {
        const rect = document.querySelector(".canvas")?.getBoundingClientRect();
        const p = flow.screenToFlowPosition({ x: (rect?.left ?? 0) + (rect?.width ?? 800) / 2, y: (rect?.top ?? 0) + (rect?.height ?? 600) / 2 });
        useGraph.getState().addNode(type, { x: Math.round(p.x - 110 + Math.random() * 40), y: Math.round(p.y - 40 + Math.random() * 40) }, defaultModel);
        useEditorUi.getState().set({ tab: "edit" });
      },
      async importInto() {
        const file = await pickFile();
        if (!file) return;
        try {
          const spec = portableRefs(await readSpecFile(file), await loadGraphChoices(), workspace);
          useGraph.getState().replaceSpec(spec);
          requestAnimationFrame(() => flow.fitView({ padding: 0.2 }));
          toast.success(`Imported “${file.name}”. Review it, then save to keep it (Undo brings the previous flow back).`);
        } catch (e) {
          toast.error(e instanceof FileProblem ? e.message : errorText(e));
        }
      },
      async exportSpec() {
        downloadSpec(withRefNames(useGraph.getState().spec(), await loadGraphChoices().catch(() => [])));
      },
    };
  }, [flow, defaultModel, workspace]);
}
