/** The terminal-event outbox moved to contracts/, where the worker shares it; the functions import it from here. */
export * from '../contracts/terminal-event.js';
