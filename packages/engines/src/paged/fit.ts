// Sizes of rendered pages: at a resolution, or scaled to meet a box of pixels.

/** Width and height, in points for pages and in pixels for images. */
export interface Size {
  width: number;
  height: number;
}

export type Side = 'width' | 'height';

/**
 * The side of the page that meets the box, the other following the page's aspect ratio: the
 * page fits inside the box, or with `cover` fills it and overflows on the other side.
 */
export function boundSide(page: Size, box: Size, cover = false): Side {
  const wider = page.width / page.height >= box.width / box.height;

  return wider !== cover ? 'width' : 'height';
}

/** The pixel size of a page scaled so that its `side` measures `length` pixels. */
export function scaledTo(page: Size, side: Side, length: number): Size {
  return side === 'width'
    ? { width: length, height: Math.max(1, Math.round((length * page.height) / page.width)) }
    : { width: Math.max(1, Math.round((length * page.width) / page.height)), height: length };
}

/** The pixel size of a page (in points) rendered at `dpi`. */
export function atDensity(page: Size, dpi: number): Size {
  return {
    width: Math.max(1, Math.ceil((page.width * dpi) / 72)),
    height: Math.max(1, Math.ceil((page.height * dpi) / 72)),
  };
}

/** The raster options of a conversion: `width` and `height` in pixels, or a resolution. */
export interface RasterOptions {
  width?: number | undefined;
  height?: number | undefined;
  dpi: number;
}

export function readRasterOptions(options: Record<string, unknown>): RasterOptions {
  return {
    width: options['width'] as number | undefined,
    height: options['height'] as number | undefined,
    dpi: (options['pixel_density'] as number | undefined) ?? 150,
  };
}

/**
 * How a page is rendered: both `width` and `height` fit the page inside them, one of them sets
 * that side, neither renders at the resolution. `by` names the option that decides the size.
 */
export function rasterSize(
  raster: RasterOptions,
  page: Size,
): { pixels: Size; by: Side | 'pixel_density' } {
  const { width, height, dpi } = raster;
  if (width === undefined && height === undefined) {
    return { pixels: atDensity(page, dpi), by: 'pixel_density' };
  }

  const side =
    width !== undefined && height !== undefined
      ? boundSide(page, { width, height })
      : width === undefined
        ? 'height'
        : 'width';

  return { pixels: scaledTo(page, side, (side === 'width' ? width : height) ?? 0), by: side };
}
