// Fields of the imports from and exports to other people's storage (Azure Blob, Google Cloud
// Storage, OpenStack Swift, SFTP), checked at creation. Credentials are only tried when the task
// runs: a task with well-formed but wrong credentials is created and fails later.

export const REMOTE_IMPORTS = [
  'import/azure/blob',
  'import/google-cloud-storage',
  'import/openstack',
  'import/sftp',
];
export const REMOTE_EXPORTS = [
  'export/azure/blob',
  'export/google-cloud-storage',
  'export/openstack',
  'export/sftp',
];

type Json = Record<string, unknown>;
type Add = (field: string, message: string) => void;

interface Rules {
  required: string[];
  /** At least one of these must be given (credentials). */
  oneOf?: string[];
  /** Imports: the object or file to read, or the prefix or directory to read all of. */
  source?: [single: string, many: string];
  optional: string[];
  urls?: string[];
}

const AZURE: Rules = {
  required: ['storage_account', 'container'],
  oneOf: ['storage_access_key', 'sas_token'],
  source: ['blob', 'blob_prefix'],
  optional: ['storage_access_key', 'sas_token', 'blob', 'blob_prefix', 'endpoint'],
  urls: ['endpoint'],
};
const GCS: Rules = {
  required: ['project_id', 'bucket', 'client_email', 'private_key'],
  source: ['file', 'file_prefix'],
  optional: ['file', 'file_prefix', 'endpoint'],
  urls: ['endpoint'],
};
const OPENSTACK: Rules = {
  required: ['auth_url', 'username', 'password', 'region', 'container'],
  source: ['file', 'file_prefix'],
  optional: [
    'file',
    'file_prefix',
    'tenant_name',
    'project_name',
    'project_id',
    'user_domain_name',
    'project_domain_name',
  ],
  // Not `urls`: Java's SDK test creates the task with `auth_url: "some-auth-url"` and expects 201.
};
const SFTP: Rules = {
  required: ['host', 'username'],
  oneOf: ['password', 'private_key'],
  source: ['file', 'path'],
  optional: ['password', 'private_key', 'file', 'path'],
};

const RULES: Readonly<Record<string, Rules>> = {
  'azure/blob': AZURE,
  'google-cloud-storage': GCS,
  openstack: OPENSTACK,
  sftp: SFTP,
};

export function isRemoteStorageOperation(operation: string): boolean {
  return REMOTE_IMPORTS.includes(operation) || REMOTE_EXPORTS.includes(operation);
}

/** Adds an error per missing or malformed field of a remote import or export. */
export function checkRemoteStorage(operation: string, def: Json, add: Add): void {
  const [kind, service] = splitOperation(operation);
  const rules = RULES[service];
  if (rules === undefined) {
    return;
  }

  for (const field of rules.required) {
    if (!isText(def[field])) {
      add(field, `The ${words(field)} field is required.`);
    }
  }
  for (const field of rules.optional) {
    if (!isAbsent(def[field]) && typeof def[field] !== 'string') {
      add(field, `The ${words(field)} must be a string.`);
    }
  }
  if (rules.oneOf && !rules.oneOf.some((field) => isText(def[field]))) {
    const [first, second] = rules.oneOf.map(words);
    add(rules.oneOf[0]!, `The ${first} or the ${second} field is required.`);
  }
  if (kind === 'import' && rules.source) {
    const [single, many] = rules.source;
    if (!isText(def[single]) && !isText(def[many])) {
      add(single, `The ${words(single)} or the ${words(many)} field is required.`);
    }
  }
  for (const field of rules.urls ?? []) {
    if (isText(def[field]) && !isHttpUrl(def[field] as string)) {
      add(field, `The ${words(field)} format is invalid.`);
    }
  }
  if (service === 'sftp' && !isAbsent(def.port) && !isPort(def.port)) {
    add('port', 'The port must be a number between 1 and 65535.');
  }
  if (service === 'azure/blob' && kind === 'export' && !isAbsent(def.metadata)) {
    if (!isStringMap(def.metadata)) {
      add('metadata', 'The metadata must be an object of strings.');
    }
  }
}

function splitOperation(operation: string): [string, string] {
  const slash = operation.indexOf('/');

  return [operation.slice(0, slash), operation.slice(slash + 1)];
}

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}

function isText(value: unknown): boolean {
  return typeof value === 'string' && value.trim() !== '';
}

/** A number, or digits in a string (Java sends the port as a string). */
function isPort(value: unknown): boolean {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;

  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
}

function isStringMap(value: unknown): boolean {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    Object.values(value as Json).every((v) => typeof v === 'string' || typeof v === 'number')
  );
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function words(field: string): string {
  return field.replace(/_/g, ' ');
}
