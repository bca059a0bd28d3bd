// File sizes in the messages tasks return, in one convention everywhere: SI units (1 kB is
// 1000 bytes), as file managers and browsers show them.

/** `21.5 kB`, `1.2 MB`, `512 B`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) {
    return `${bytes} B`;
  }

  return bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;
}
