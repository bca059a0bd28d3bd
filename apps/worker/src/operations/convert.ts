import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

import { AppError } from '@convertd/errors';
import { engineOf } from '@convertd/queue';

import { cleanFilename, extensionOf, replaceExtension } from '@convertd/api';
import type { OperationOutput, OperationRun } from './index';

/** `convert`: each input file through the engine, outputs named after the inputs. */
export async function runConvert({
  stored,
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
      const filename = outputName(payload.filename, {
        inputName: input.filename,
        outputPath: output,
        format: outputFormat,
        single: converted.files.length === 1 && task.inputFiles.length === 1,
        number: files.length + 1,
        several: converted.files.length > 1,
      });
      const id = randomUUID();
      const key = `tasks/${task.id}/${id}`;
      stored.push(key);
      const object = await ctx.storage.putFile(key, output);
      files.push({
        id,
        filename,
        storageKey: key,
        size: BigInt(object.size),
        md5: object.md5,
        contentType: null,
      });
      listed.push({ filename, size: object.size });
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

/**
 * The user's `filename` for the only output (`%d` numbers the outputs of the task, printf
 * style, when there are several), else the input's name with the new extension.
 */
function outputName(
  asked: unknown,
  o: {
    inputName: string;
    outputPath: string;
    format: string;
    single: boolean;
    number: number;
    several: boolean;
  },
): string {
  if (typeof asked === 'string' && asked !== '') {
    if (o.single) {
      return cleanFilename(asked.replace('%d', '1'));
    }
    if (asked.includes('%d')) {
      return cleanFilename(asked.replace('%d', String(o.number)));
    }
  }
  if (o.several) {
    return cleanFilename(path.basename(o.outputPath));
  }

  return cleanFilename(replaceExtension(o.inputName, o.format));
}
