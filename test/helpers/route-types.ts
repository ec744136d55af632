import type { InferResponseType } from 'hono/client';
import type { StatusCode } from 'hono/utils/http-status';

/** The JSON body an endpoint of a `hc` client answers with `status`, as its route's types say. */
export type Answer<Endpoint, Status extends StatusCode = 200> = Endpoint extends (...args: never[]) => unknown ? InferResponseType<Endpoint, Status> : never;

/**
 * True when what a route answers gives a client every field it reads, of the type it reads;
 * never and any (a route type lost on the way) do not count.
 */
export type Reads<ClientBody, RouteAnswer> = [RouteAnswer] extends [never] ? false : 0 extends 1 & RouteAnswer ? false : RouteAnswer extends ClientBody ? true : false;
