// Resizing as filter-graph steps, shared by conversions and thumbnails.

export interface Resize {
  width?: number;
  height?: number;
  /** max (never enlarged), crop, scale or pad. */
  fit: string;
  /** Video encoders with 4:2:0 chroma need even sizes. */
  even: boolean;
  /** Size of the source, to make an odd one even when nothing else resizes it. */
  source: { width: number; height: number };
}

/** Filters that resize as asked; empty when the size stays. */
export function resizeFilters(r: Resize): string[] {
  const w = r.width === undefined ? undefined : r.even ? roundEven(r.width) : r.width;
  const h = r.height === undefined ? undefined : r.even ? roundEven(r.height) : r.height;
  // -2 keeps the aspect ratio on an even size, -1 on any.
  const auto = r.even ? '-2' : '-1';
  const divisible = r.even ? ':force_divisible_by=2' : '';

  if (w === undefined && h === undefined) {
    const odd = r.source.width % 2 === 1 || r.source.height % 2 === 1;
    return r.even && odd ? ['scale=trunc(iw/2)*2:trunc(ih/2)*2', 'setsar=1'] : [];
  }

  if (w === undefined || h === undefined) {
    // One side given: every fit keeps the aspect ratio; max does not enlarge.
    const dim = w === undefined ? 'ih' : 'iw';
    const size = w ?? h ?? 0;
    const value =
      r.fit !== 'max'
        ? String(size)
        : r.even
          ? `'trunc(min(${dim},${size})/2)*2'`
          : `'min(${dim},${size})'`;

    return [w === undefined ? `scale=${auto}:${value}` : `scale=${value}:${auto}`, 'setsar=1'];
  }

  switch (r.fit) {
    case 'crop':
      return [`scale=${w}:${h}:force_original_aspect_ratio=increase`, `crop=${w}:${h}`, 'setsar=1'];
    case 'scale':
      return [`scale=${w}:${h}`, 'setsar=1'];
    case 'pad':
      return [
        `scale=${w}:${h}:force_original_aspect_ratio=decrease${divisible}`,
        `pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2`,
        'setsar=1',
      ];
    default:
      return [
        `scale='min(iw,${w})':'min(ih,${h})':force_original_aspect_ratio=decrease${divisible}`,
        'setsar=1',
      ];
  }
}

function roundEven(n: number): number {
  return n % 2 === 0 ? n : n + 1;
}
