import type { AnswerHeaders } from './answer-headers.ts';
import type { RequestPeer } from './proxy.ts';
import type { Caller } from './session.ts';

/** Variables the app's middleware chain sets on each request, shared by the sub-apps mounted under it. */
export type AppEnv = { Variables: { caller: Caller; requestId: string; peer: RequestPeer; answerHeaders: AnswerHeaders; cacheControl?: string } };
