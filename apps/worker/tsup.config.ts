import { defineConfig } from 'tsup';

import { appBundle } from '../../tsup.base';

export default defineConfig(appBundle);
