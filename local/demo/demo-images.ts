/**
 * The demo's two frames, drawn deterministically: a small scene whose objects move between the start
 * and the end frame (a sun rises, a ball rolls, a boat sails), so the in-between frames show motion.
 */
import sharp from 'sharp';

export const DEMO_SIZE = { width: 832, height: 480 } as const;

interface Scene {
  sun: { x: number; y: number };
  ball: { x: number; y: number };
  boat: { x: number };
  sky: [string, string];
}

// Moves stay within a few dozen pixels: enough to see, and within reach of the preview engine's motion search.
const START: Scene = {
  sun: { x: 600, y: 170 },
  ball: { x: 300, y: 420 },
  boat: { x: 200 },
  sky: ['#f4a261', '#ffd6a5'],
};
const END: Scene = {
  sun: { x: 640, y: 130 },
  ball: { x: 360, y: 420 },
  boat: { x: 250 },
  sky: ['#f4a261', '#ffd6a5'],
};

function svg(scene: Scene): string {
  const { width, height } = DEMO_SIZE;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
  <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
    <stop offset="0" stop-color="${scene.sky[0]}"/><stop offset="1" stop-color="${scene.sky[1]}"/>
  </linearGradient></defs>
  <rect width="${width}" height="${height}" fill="url(#sky)"/>
  <circle cx="${scene.sun.x}" cy="${scene.sun.y}" r="52" fill="#ffd23f"/>
  <rect y="300" width="${width}" height="90" fill="#2e86ab"/>
  <g transform="translate(${scene.boat.x} 262)">
    <polygon points="0,38 150,38 125,62 25,62" fill="#8b4513"/>
    <polygon points="70,0 70,36 130,36" fill="#fafafa"/>
    <rect x="66" y="0" width="5" height="40" fill="#333"/>
  </g>
  <rect y="390" width="${width}" height="90" fill="#3c8d2f"/>
  <circle cx="${scene.ball.x}" cy="${scene.ball.y}" r="30" fill="#e63946" stroke="#fff" stroke-width="6"/>
</svg>`;
}

async function render(scene: Scene): Promise<Uint8Array> {
  const png = await sharp(Buffer.from(svg(scene)))
    .png({ compressionLevel: 9 })
    .toBuffer();
  return new Uint8Array(png);
}

export async function demoImages(): Promise<{ start: Uint8Array; end: Uint8Array }> {
  const [start, end] = await Promise.all([render(START), render(END)]);
  return { start, end };
}
