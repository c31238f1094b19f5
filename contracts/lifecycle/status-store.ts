/**
 * StatusStore over any ObjectStore: create with If-None-Match, update with If-Match and a retry on a
 * lost race. Illegal transitions are refused here, so no caller can move a terminal request.
 */
import { InternalError } from '../errors.js';
import { requestKeys } from '../keys.js';
import { isPreconditionFailed, type ObjectStore, type StatusRecord, type StatusStore } from '../ports.js';
import { canTransition, type StatusDocument, StatusSchema } from './status.js';

const MAX_ATTEMPTS = 8;

export class ObjectStatusStore implements StatusStore {
  constructor(private readonly store: ObjectStore) {}

  async create(status: StatusDocument): Promise<boolean> {
    const doc = StatusSchema.parse(status);
    try {
      await this.store.put(requestKeys(doc.request_id).status, JSON.stringify(doc), {
        contentType: 'application/json',
        ifNoneMatch: '*',
      });
      return true;
    } catch (error) {
      if (isPreconditionFailed(error)) return false;
      throw error;
    }
  }

  async read(requestId: string): Promise<StatusRecord | undefined> {
    const object = await this.store.get(requestKeys(requestId).status);
    if (object === undefined) return undefined;
    const status = StatusSchema.parse(JSON.parse(new TextDecoder().decode(object.body)));
    return { status, etag: object.etag };
  }

  async update(
    requestId: string,
    update: (current: StatusDocument) => StatusDocument | undefined,
  ): Promise<StatusRecord | undefined> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const current = await this.read(requestId);
      if (current === undefined) throw new InternalError(`status of request ${requestId} does not exist`);
      const next = update(current.status);
      if (next === undefined) return undefined;
      if (!canTransition(current.status.state, next.state)) {
        throw new InternalError(
          `illegal status transition ${current.status.state} -> ${next.state} for ${requestId}`,
        );
      }
      const doc = StatusSchema.parse(next);
      try {
        const { etag } = await this.store.put(requestKeys(requestId).status, JSON.stringify(doc), {
          contentType: 'application/json',
          ifMatch: current.etag,
        });
        return { status: doc, etag };
      } catch (error) {
        if (!isPreconditionFailed(error)) throw error;
      }
    }
    throw new InternalError(`status of request ${requestId} kept changing under ${MAX_ATTEMPTS} attempts`);
  }
}
