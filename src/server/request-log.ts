import type { MiddlewareHandler } from 'hono';
import type { AnswerHeaders } from './answer-headers.ts';
import type { Logger, LogLevel } from './log.ts';

/** `/tasks/<id>` with the id masked: task ids are capabilities and stay out of logs (instance and form ids alike). */
export const loggedPath = (path: string) =>
  path.replace(/\/tasks\/[^/]+/, '/tasks/:id').replace(/\/automations\/(instances|forms|dashboard\/instances)\/[^/]+/, '/automations/$1/:id');

/**
 * The app's middleware right behind `answerHeaders`: gives each request an id (`requestId`,
 * answered as `X-Request-Id`) and logs one `request` line per answer (method, masked path,
 * status, milliseconds), built only when the logger keeps its level.
 */
export function requestLog(logger: Logger): MiddlewareHandler<{ Variables: { requestId: string; answerHeaders: AnswerHeaders } }> {
  return async (c, next) => {
    const started = performance.now();
    const requestId = crypto.randomUUID();
    c.set('requestId', requestId);
    c.get('answerHeaders')['x-request-id'] = requestId;
    await next();
    const status = c.res.status;
    const level: LogLevel = status >= 500 && status !== 503 ? 'error' : status >= 400 ? 'warn' : 'info';
    if (logger.enabled?.(level) === false) return;
    logger({
      level,
      msg: 'request',
      requestId,
      method: c.req.method,
      path: loggedPath(c.req.path),
      status,
      ms: Math.round((performance.now() - started) * 100) / 100,
    });
  };
}
