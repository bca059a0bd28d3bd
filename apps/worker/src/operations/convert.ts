import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

import { AppError } from '@convertd/errors';
import { engineOf } from '@convertd/queue';

import { cleanFilename, extensionOf, replaceExtension } from '../files';
import type { OperationOutput, OperationRun } from './index';

/** `convert`: each input file through the engine, outputs named after the inputs. */
export async function runConvert({
  ctx,
  task,
  workDir,
  signal,
  deadline,
}: OperationRun): Promise<OperationOutput> {
  const payload = task.payload as Record<string, unknown>;
  const outputFormat = String(payload.output_format).toLowerCase();
  const detected = ctx.engines.get(engineOf(payload));
  if (!detected) {
    throw new AppError('ENGINE_UNAVAILABLE', {
      message: `This worker has no engine ${engineOf(payload)}.`,
    });
  }
  if (task.inputFiles.length === 0) {
    throw new AppError('NO_INPUT_FILES');
  }

  const files: OperationOutput['files'] = [];
  const listed: { filename: string; size: number }[] = [];
  for (const [index, input] of task.inputFiles.entries()) {
    const inputFormat =
      typeof payload.input_format === 'string' && payload.input_format !== ''
        ? payload.input_format.toLowerCase()
        : extensionOf(input.filename);
    if (!detected.engine.canConvert(inputFormat, outputFormat)) {
      throw new AppError('INVALID_CONVERSION_TYPE', {
        message: `This conversion type is not supported: ${inputFormat || 'unknown'} to ${outputFormat}.`,
      });
    }

    const inputPath = path.join(workDir, `in-${index}.${inputFormat || 'bin'}`);
    const outputDir = path.join(workDir, `out-${index}`);
    await fs.mkdir(outputDir, { recursive: true });
    await ctx.storage.download(input.storageKey, inputPath);
    const converted = await detected.engine.convert({
      inputPath,
      inputFormat,
      outputFormat,
      outputDir,
      options: payload,
      deadlineMs: Math.max(1000, deadline - Date.now()),
      signal,
      logger: ctx.logger,
    });

    for (const output of converted.files) {
      const filename = outputName(
        payload.filename,
        input.filename,
        output,
        outputFormat,
        converted.files.length,
        index,
        task.inputFiles.length,
      );
      const id = randomUUID();
      const key = `tasks/${task.id}/${id}`;
      const stored = await ctx.storage.putFile(key, output);
      files.push({
        id,
        filename,
        storageKey: key,
        size: BigInt(stored.size),
        md5: stored.md5,
        contentType: null,
      });
      listed.push({ filename, size: stored.size });
    }
  }

  return {
    files,
    result: { files: listed },
    engine: detected.name,
    engineVersion: detected.version,
    credits: 1,
  };
}

/** The user's `filename` for a single output, else the input's name with the new extension. */
function outputName(
  asked: unknown,
  inputName: string,
  outputPath: string,
  format: string,
  outputsOfInput: number,
  inputIndex: number,
  inputs: number,
): string {
  if (typeof asked === 'string' && asked !== '') {
    if (outputsOfInput === 1 && inputs === 1) {
      return cleanFilename(asked);
    }
    // `page-%d.png`: printf-style numbering when there are several outputs.
    if (/%d/.test(asked)) {
      return cleanFilename(asked.replace('%d', String(inputIndex + 1)));
    }
  }
  if (outputsOfInput > 1) {
    return cleanFilename(path.basename(outputPath));
  }

  return cleanFilename(replaceExtension(inputName, format));
}
