import { Component, type ErrorInfo, type ReactNode } from "react";

interface Props {
  children: ReactNode;
  /** Where this boundary sits, for the message ("the side panel"). */
  area?: string;
  onReset?: () => void;
}
interface State {
  failed: boolean;
}

/** Never a blank screen: a part that breaks says so in words, and the rest keeps working. */
export class ErrorBoundary extends Component<Props, State> {
  state: State = { failed: false };

  static getDerivedStateFromError(): State {
    return { failed: true };
  }

  componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error("Patchbay UI error", error, info.componentStack);
  }

  render() {
    if (!this.state.failed) return this.props.children;
    return (
      <div className="error-panel" data-testid="error-boundary" role="alert">
        <strong>{this.props.area ? `The ${this.props.area} hit a problem.` : "This page hit a problem."}</strong>
        <p>Your work is kept: unsaved changes are saved as a draft in this browser.</p>
        <button
          className="btn"
          onClick={() => {
            this.setState({ failed: false });
            this.props.onReset?.();
          }}
        >
          Try again
        </button>
      </div>
    );
  }
}
