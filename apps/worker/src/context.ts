import type { PayloadCipher } from '@convertd/api';
import type { Config, Logger } from '@convertd/config';
import type { Db, Router } from '@convertd/db';
import type { Engine } from '@convertd/engines';
import type { Dispatcher, EventBus } from '@convertd/queue';
import type { Storage } from '@convertd/storage';
import type { Redis } from 'ioredis';

/** An engine found on this machine at start-up. */
export interface DetectedEngine {
  name: string;
  version: string;
  engine: Engine;
}

/** What the task runner and the sweeps use; built once by the runtime. */
export interface WorkerContext {
  config: Config;
  logger: Logger;
  db: Db;
  redis: Redis;
  storage: Storage;
  dispatcher: Dispatcher;
  events: EventBus;
  route: Router;
  /** Opens the sealed secret fields of a payload just before its task runs. */
  cipher: PayloadCipher;
  engines: Map<string, DetectedEngine>;
  hostName: string;
  /** This worker's own directory for task work dirs (under WORK_DIR/tasks). */
  tasksDir: string;
}
