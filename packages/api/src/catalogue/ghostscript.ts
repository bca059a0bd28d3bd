// Ghostscript: PostScript and EPS to PDF and images, PDF optimization and PDF/A.
import type { EngineSpec } from './types';

export const OPTIMIZE_PROFILES = ['web', 'print', 'archive', 'mrc', 'max'] as const;
export const PDFA_LEVELS = ['1b', '2b', '3b'] as const;

export const GHOSTSCRIPT: EngineSpec = {
  name: 'ghostscript',
  entries: [
    { operation: 'convert', inputs: ['ps', 'eps'], outputs: ['pdf'], options: [], group: 'vector' },
    {
      operation: 'convert',
      inputs: ['ps', 'eps'],
      outputs: ['png', 'jpg'],
      options: [
        {
          name: 'pixel_density',
          type: 'integer',
          default: 150,
          min: 10,
          max: 1200,
          description: 'Resolution of the images in pixels per inch; one image per page.',
        },
      ],
      group: 'vector',
    },
    {
      operation: 'optimize',
      inputs: ['pdf'],
      outputs: 'same',
      options: [
        {
          name: 'profile',
          type: 'enum',
          default: 'web',
          possible_values: OPTIMIZE_PROFILES,
          description:
            'web: images at 150 dpi, linearized for the browser; print: images at 300 dpi; ' +
            'archive: images kept at their resolution; mrc: scans, colour and grey images at ' +
            '150 dpi as JPEG and black-and-white at 300 dpi as CCITT G4 (the page is not split ' +
            'into layers); max: smallest file, images at 72 dpi. The result is never larger ' +
            'than the input.',
        },
        {
          name: 'quality',
          type: 'integer',
          min: 1,
          max: 100,
          description:
            'JPEG quality of the images (100 is best). Unset: the profile decides, and JPEG ' +
            'images that keep their resolution are not re-encoded.',
        },
      ],
      group: 'pdf',
    },
    {
      operation: 'pdf/a',
      inputs: ['pdf'],
      outputs: 'same',
      options: [
        {
          name: 'conformance_level',
          type: 'enum',
          default: '2b',
          possible_values: PDFA_LEVELS,
          description: 'PDF/A part and conformance level, with an sRGB output intent.',
        },
      ],
      group: 'pdf',
    },
  ],
};
