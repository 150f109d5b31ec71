/**
 * What the tray window's page may ask of the agent: a tiny typed API. Under Electron the preload
 * script provides it (`window.outpost`, over IPC checked in the main process); in tests and previews
 * `http-bridge.ts` provides the same over a local page server that holds the control token.
 */
import type { ActivityPage, AgentStatus, BudgetsView, ControlEvent, DiagnosticsExport, DoctorReport } from '../../shared/schema/control.js';

export interface OutpostBridge {
  status(): Promise<AgentStatus>;
  activity(limit: number): Promise<ActivityPage>;
  budgets(): Promise<BudgetsView>;
  pause(minutes: number): Promise<void>;
  resume(): Promise<void>;
  /** Picks the virtual key for requests without one of their own (null: none). */
  selectKey(id: string | null): Promise<void>;
  /** Runs every self-check. */
  diagnostics(): Promise<DoctorReport>;
  /** Writes the scrubbed diagnostics zip; says where. */
  exportDiagnostics(): Promise<DiagnosticsExport>;
  /** Calls `listener` with each event of the agent's stream; reconnects by itself. */
  onEvent(listener: (event: ControlEvent) => void): void;
}
