// ExifTool: the metadata of any file, and writing tags into images, videos and PDFs.
import type { EngineSpec, OptionSpec } from './types';

/** Formats whose tags ExifTool writes (more exist; not WebP: 12.57 refuses its RIFF files). */
export const EXIFTOOL_WRITABLE = [
  'jpg',
  'jpeg',
  'png',
  'tiff',
  'tif',
  'gif',
  'heic',
  'mp4',
  'mov',
  'm4a',
] as const;

/** Longest tag name accepted in `metadata`. */
export const EXIFTOOL_MAX_TAG_NAME = 64;

const METADATA_OPTION: OptionSpec = {
  name: 'metadata',
  type: 'dictionary',
  required: true,
  description:
    'Tag name -> value, e.g. {"Artist": "Jane Doe", "Copyright": "2026"}; names are ExifTool ' +
    'tag names (letters, digits, underscores; "XMP-dc:Title" picks a group). An empty value ' +
    'removes the tag.',
};

export const EXIFTOOL: EngineSpec = {
  name: 'exiftool',
  entries: [
    // The general default for metadata: CloudConvert's result.metadata are ExifTool's tags.
    { operation: 'metadata', inputs: ['*'], outputs: 'none', options: [], group: 'other' },
    {
      operation: 'metadata/write',
      inputs: EXIFTOOL_WRITABLE,
      outputs: 'same',
      options: [METADATA_OPTION],
      group: 'other',
    },
    {
      // pdf-lib edits the Info dictionary in place; ExifTool is the alternative for PDFs.
      operation: 'metadata/write',
      inputs: ['pdf'],
      outputs: 'same',
      options: [METADATA_OPTION],
      group: 'pdf',
      priority: 150,
    },
  ],
};
