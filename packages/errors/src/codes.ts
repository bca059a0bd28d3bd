// The one catalogue of error codes. HTTP codes are read by the gateway, `retryable` by the worker.
// Codes are never renamed or reused: clients match on them.

interface CodeSpec {
  readonly status: number;
  readonly message: string;
  readonly retryable: boolean;
}

export const CODES = {
  // API (HTTP)
  UNAUTHENTICATED: { status: 401, message: 'Unauthenticated.', retryable: false },
  FORBIDDEN: { status: 403, message: 'This action is unauthorized.', retryable: false },
  NOT_FOUND: { status: 404, message: 'Not found.', retryable: false },
  INVALID_DATA: { status: 422, message: 'The given data was invalid.', retryable: false },
  INVALID_JSON: { status: 400, message: 'The request body is not valid JSON.', retryable: false },
  BAD_REQUEST: { status: 400, message: 'Bad request.', retryable: false },
  CONFLICT: {
    status: 409,
    message: 'The resource is not in a state that allows this.',
    retryable: false,
  },
  INVALID_SIGNATURE: {
    status: 403,
    message: 'The signature is invalid or expired.',
    retryable: false,
  },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.', retryable: false },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported content type.', retryable: false },
  INTERNAL_ERROR: { status: 500, message: 'Server Error', retryable: false },
  SERVICE_UNAVAILABLE: { status: 503, message: 'Service unavailable.', retryable: true },

  // Tasks (task.code)
  INPUT_TASK_FAILED: { status: 422, message: 'Input task has failed', retryable: false },
  CANCELLED: { status: 422, message: 'The task has been cancelled', retryable: false },
  INVALID_CONVERSION_TYPE: {
    status: 422,
    message: 'This conversion type is not supported',
    retryable: false,
  },
  NO_INPUT_FILES: { status: 422, message: 'The input tasks produced no files', retryable: false },
  UPLOAD_FAILED: { status: 400, message: 'The upload could not be read', retryable: false },
  IMPORT_FAILED: { status: 422, message: 'The file could not be imported', retryable: false },
  EXPORT_FAILED: { status: 422, message: 'The file could not be exported', retryable: false },
  URL_NOT_ALLOWED: { status: 422, message: 'The URL is not allowed', retryable: false },
  PASSWORD_REQUIRED: {
    status: 422,
    message: 'The file is protected by a password',
    retryable: false,
  },
  PASSWORD_INVALID: { status: 422, message: 'The password is wrong', retryable: false },
  INPUT_CORRUPT: {
    status: 422,
    message: 'The file is damaged or not of the type it claims to be',
    retryable: false,
  },
  ENGINE_TIMEOUT: {
    status: 500,
    message: 'The conversion took longer than its deadline',
    retryable: false,
  },
  ENGINE_CRASHED: { status: 500, message: 'The conversion engine crashed', retryable: true },
  ENGINE_FAILED: { status: 500, message: 'The conversion engine failed', retryable: false },
  ENGINE_CANCELLED: { status: 500, message: 'The conversion was stopped', retryable: false },
  ENGINE_UNAVAILABLE: { status: 503, message: 'No worker serves this engine', retryable: true },
  ENGINE_VERSION_UNAVAILABLE: {
    status: 422,
    message: 'No worker serves this engine in the version asked for',
    retryable: false,
  },
  WORKER_LOST: { status: 500, message: 'The worker running this task stopped', retryable: false },
  STORAGE_ERROR: { status: 500, message: 'The file storage failed', retryable: true },
} as const satisfies Record<string, CodeSpec>;

export type ErrorCode = keyof typeof CODES;
