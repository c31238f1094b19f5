/**
 * ComfyUI's extra model paths file (YAML), pointing each model folder at the NVMe cache the provisioner
 * fills, so that ComfyUI finds the weights where they were verified and nothing is copied.
 */
export function extraModelPathsYaml(cacheDir: string, folders: readonly string[]): string {
  const unique = [...new Set(folders)].sort();
  const lines = ['heritage:', `  base_path: ${JSON.stringify(cacheDir)}`, '  is_default: true'];
  for (const folder of unique) lines.push(`  ${folder}: ${JSON.stringify(folder)}`);
  return `${lines.join('\n')}\n`;
}
