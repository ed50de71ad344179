import pino, { type Logger as PinoLogger } from 'pino';
import { Runtime, makeTelemetryFilterString, type LogLevel, type LogMetadata, type MetricsExporterConfig } from '@temporalio/worker';

export type Logger = PinoLogger;

export function createLogger(level: string, name: string): Logger {
  return pino({ name, level, base: { pid: process.pid, service: name } });
}

const pinoLevel: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * Route the Temporal runtime's logs (SDK, workflow and activity context loggers, and Core's native
 * logs) into pino, so one process writes one JSON log stream. Must run before any Worker or
 * NativeConnection is created; it can only be installed once per process. With `metrics`, the SDK
 * exports its own metrics too; returns whether it does (false when its exporter could not start).
 */
export function installTemporalRuntimeLogging(logger: Logger, metrics?: MetricsExporterConfig): boolean {
  const temporal = logger.child({ component: 'temporal' });
  const install = (withMetrics?: MetricsExporterConfig) =>
    Runtime.install({
      logger: {
        log: (level: LogLevel, message: string, meta?: LogMetadata) => temporal[pinoLevel[level]](meta ?? {}, message),
        trace: (message, meta) => temporal.trace(meta ?? {}, message),
        debug: (message, meta) => temporal.debug(meta ?? {}, message),
        info: (message, meta) => temporal.info(meta ?? {}, message),
        warn: (message, meta) => temporal.warn(meta ?? {}, message),
        error: (message, meta) => temporal.error(meta ?? {}, message),
      },
      telemetryOptions: {
        logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} },
        ...(withMetrics && { metrics: withMetrics }),
      },
    });
  if (!metrics) {
    install();
    return false;
  }
  try {
    install(metrics);
    return true;
  } catch (err) {
    // The SDK's metrics exporter could not bind (a port taken): run without it rather than not at all.
    temporal.warn({ err: (err as Error).message }, 'the Temporal SDK metrics exporter could not start; running without it');
    install();
    return false;
  }
}
