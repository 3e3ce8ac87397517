import winston from 'winston';

export type Logger = winston.Logger;

export interface LoggingOptions {
  level?: string;
  /** Silences output (tests); the logger still works so child loggers can be asserted on. */
  silent?: boolean;
}

/**
 * The root logger: one JSON object per line, so operators can ship logs anywhere. Plugins get
 * `logger.child({ plugin })`, requests `logger.child({ reqId })`.
 */
export function createLogger(options: LoggingOptions = {}): Logger {
  return winston.createLogger({
    level: options.level ?? 'info',
    silent: options.silent ?? false,
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn'] })],
  });
}
