/** The demo request: 480p, 65 generated frames, RIFE x2, so 129 frames at 32 fps, and an MP4. */
export const DEMO_MANIFEST = {
  positive_prompt: 'the sun rises over the bay while a boat sails east and a red ball rolls across the grass',
  resolution: 480,
  frame_length: 65,
  interpolation: 2,
  steps: 8,
  seed: 42,
  video: true,
  client_reference: 'heritage-demo',
} as const;
