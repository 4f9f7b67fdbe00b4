/** An edge leaving one of several exits: its label sits where it cannot cover other labels (graph-core/edgeLabels). */
import { BaseEdge, EdgeLabelRenderer, getSmoothStepPath, type EdgeProps } from "@xyflow/react";
import { memo } from "react";
import { labelPoint } from "../graph-core/edgeLabels";

export interface ExitEdgeData extends Record<string, unknown> {
  exitLabel: string;
  stack: number;
}

export const ExitEdge = memo(function ExitEdge(props: EdgeProps) {
  const { id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, markerEnd, style, data } = props;
  const [path] = getSmoothStepPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition });
  const { exitLabel, stack } = data as ExitEdgeData;
  const at = labelPoint(exitLabel, stack, { x: sourceX, y: sourceY }, { x: targetX, y: targetY });
  return (
    <>
      <BaseEdge id={id} path={path} markerEnd={markerEnd} style={style} />
      {at && (
        <EdgeLabelRenderer>
          <div className="exit-edge-label nodrag nopan" data-testid={`edge-label-${id}`}
            style={{ transform: `translate(-50%, -50%) translate(${at.x}px, ${at.y}px)` }}>
            {exitLabel}
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
});

export const edgeTypes = { exit: ExitEdge };
