/**
 * The frame engine port: what turns a start and an end image into the frames between them. The job
 * runner depends on this and nothing else about rendering; ComfyUI and the CPU preview implement it.
 */
import type { ENGINES } from '../../../contracts/event.js';
import type { Geometry } from '../../../contracts/geometry.js';
import type { ResolvedManifest } from '../../../contracts/manifest.js';

export type EngineName = (typeof ENGINES)[number];

export interface EngineProgress {
  /** 0-100 within the render. */
  percent: number;
  phase: string;
}

export interface EngineJob {
  requestId: string;
  /** Local paths of the downloaded input images. */
  startImage: string;
  endImage: string;
  manifest: ResolvedManifest;
  geometry: Geometry;
  /** A directory that belongs to this request alone; the runner removes it afterwards. */
  workDir: string;
}

export interface EngineOutput {
  /** Local paths of the rendered frames, in display order. */
  frames: string[];
  /** The workflow that made them, when the engine runs one (null for the preview). */
  workflow: { name: string; sha256: string } | null;
  /** Optional per-node or per-phase timings, merged into result.json's timings_ms. */
  timingsMs?: Record<string, number>;
}

export interface FrameEngine {
  readonly name: EngineName;
  /**
   * Renders `job.geometry.frames` frames. Aborting `signal` must stop the work promptly and reject with
   * an EngineInterruptedError (or the signal's reason). Failures are HeritageErrors with a code.
   */
  render(
    job: EngineJob,
    signal: AbortSignal,
    onProgress: (progress: EngineProgress) => void,
  ): Promise<EngineOutput>;
  /** Removes whatever the engine kept for this request outside `job.workDir` (ComfyUI input/output files). */
  cleanup(job: EngineJob): Promise<void>;
}
