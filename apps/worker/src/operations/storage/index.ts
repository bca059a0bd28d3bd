// Imports from and exports to other people's storage, by operation name.
import type { Operation } from '../index';
import { runAzureExport, runAzureImport } from './azure';
import { runGcsExport, runGcsImport } from './gcs';
import { runSftpExport, runSftpImport } from './sftp';
import { runOpenstackExport, runOpenstackImport } from './swift';

export const REMOTE_STORAGE_OPERATIONS: Readonly<Record<string, Operation>> = {
  'import/azure/blob': runAzureImport,
  'export/azure/blob': runAzureExport,
  'import/google-cloud-storage': runGcsImport,
  'export/google-cloud-storage': runGcsExport,
  'import/openstack': runOpenstackImport,
  'export/openstack': runOpenstackExport,
  'import/sftp': runSftpImport,
  'export/sftp': runSftpExport,
};
