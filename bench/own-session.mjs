// How the benches start their servers, schedulers and workers.

/**
 * `spawn` options of a bench child process (a server, a scheduler, a pg-boss worker): a session
 * of its own, as a service has. Linux's autogroup scheduler shares the CPU between sessions, and
 * every PostgreSQL backend is a session of its own: processes left in the bench's session would
 * share that one session's CPU, a second process adding none. Such a child outlives a signal to
 * the bench: whoever starts one kills it when the bench exits.
 */
export const ownSession = { detached: true };
