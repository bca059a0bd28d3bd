// GraphicsMagick: an alternative engine for common raster pairs (`engine: graphicsmagick`), and
// the `command` operation with its `gm` program.
import { MAGICK_ARGUMENT_RULES } from '../command/rules';
import { commandOptions } from './ffmpeg';
import { MAGICK_CONVERT_OPTIONS } from './imagemagick';
import type { EngineSpec } from './types';

export const GM_INPUTS = [
  'png',
  'jpg',
  'jpeg',
  'gif',
  'bmp',
  'tiff',
  'tif',
  'webp',
  'tga',
  'pcx',
  'ppm',
  'pgm',
  'pbm',
] as const;
export const GM_OUTPUTS = ['png', 'jpg', 'gif', 'bmp', 'tiff', 'webp'] as const;

export const GRAPHICSMAGICK: EngineSpec = {
  name: 'graphicsmagick',
  entries: [
    {
      operation: 'convert',
      inputs: GM_INPUTS,
      outputs: GM_OUTPUTS,
      options: MAGICK_CONVERT_OPTIONS,
      group: 'image',
      // Chosen only when asked for by name: vips and ImageMagick serve these pairs first.
      priority: 200,
    },
    {
      operation: 'command',
      inputs: ['*'],
      outputs: 'none',
      options: commandOptions(['gm'], MAGICK_ARGUMENT_RULES),
      group: 'other',
    },
  ],
};
