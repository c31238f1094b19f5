/**
 * RequestAccess for the local stack: the emulator has no IAM, so every request gets the one shared
 * store. The local stack proves the event flow; the confinement is IAM's and the CDK tests check it.
 */
import { ObjectStatusStore } from '../../contracts/lifecycle/status-store.js';
import type { ObjectStore, RequestAccess, RequestStores } from '../../contracts/ports.js';

export class SharedRequestAccess implements RequestAccess {
  private readonly stores: RequestStores;

  constructor(store: ObjectStore) {
    this.stores = { store, statuses: new ObjectStatusStore(store) };
  }

  forRequest(_requestId: string): RequestStores {
    return this.stores;
  }
}
