import winston from 'winston';

export type Logger = winston.Logger;

export interface LoggingOptions {
  level?: string;
  /** Silences output (tests); the logger still works so child loggers can be asserted on. */
  silent?: boolean;
  /** Overrides the choice made by `chooseLogFormat` (from LOG_FORMAT and whether stdout is a terminal). */
  format?: LogFormat;
}

export type LogFormat = 'json' | 'console';

/**
 * JSON lines unless a person is watching: `console` (readable, one line per entry) when stdout is a
 * terminal, `json` otherwise (files, pipes, log shippers). LOG_FORMAT=json or LOG_FORMAT=console
 * decides regardless.
 */
export function chooseLogFormat(env: NodeJS.ProcessEnv = process.env, isTTY: boolean = process.stdout.isTTY === true): LogFormat {
  if (env.LOG_FORMAT === 'json' || env.LOG_FORMAT === 'console') return env.LOG_FORMAT;
  return isTTY ? 'console' : 'json';
}

const consoleLine = winston.format.printf((info) => {
  const { level, message, timestamp, stack, ...fields } = info as Record<string, unknown>;
  const extra = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${String(timestamp).slice(11, 23)} ${String(level)} ${String(message)}${extra ? ` ${extra}` : ''}${stack ? `\n${String(stack)}` : ''}`;
});

/**
 * The root logger: one JSON object per line, so operators can ship logs anywhere, or a readable
 * line on a terminal (`chooseLogFormat`). Plugins get `logger.child({ plugin })`, requests
 * `logger.child({ reqId })`.
 */
export function createLogger(options: LoggingOptions = {}): Logger {
  return winston.createLogger({
    level: options.level ?? 'info',
    silent: options.silent ?? false,
    format:
      (options.format ?? chooseLogFormat()) === 'json'
        ? winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json())
        : winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.colorize(), consoleLine),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn'] })],
  });
}
