/**
 * What the CLI says when a request has no status or no result: whether a manifest is at
 * inbox/<id>/ at all, whether the request was rejected, and what to do next.
 */
import { RequestIdReusedError } from '../../contracts/errors.js';
import { requestKeys } from '../../contracts/keys.js';
import { isTerminal, type StatusDocument } from '../../contracts/lifecycle/status.js';
import type { ObjectStore, StatusStore } from '../../contracts/ports.js';
import { RequestFailedError } from '../exit-codes.js';

export interface RequestPlace {
  bucket: string;
  objects: ObjectStore;
  statuses: StatusStore;
}

/** The object names under inbox/<id>/. */
async function inboxNames(place: RequestPlace, id: string): Promise<string[]> {
  const prefix = requestKeys(id).inboxPrefix;
  const names: string[] = [];
  for await (const item of place.objects.list(prefix)) names.push(item.key.slice(prefix.length));
  return names.sort();
}

/** Whether inbox/<id>/manifest.json is there: dispatch will claim it, or has not yet. */
export async function hasManifest(place: RequestPlace, id: string): Promise<boolean> {
  return (await place.objects.head(requestKeys(id).manifest)) !== undefined;
}

/** A request dispatch has not claimed: no manifest at inbox/<id>/, or one not taken yet. */
export async function explainUnclaimed(place: RequestPlace, id: string): Promise<RequestFailedError> {
  const names = await inboxNames(place, id);
  const where = `s3://${place.bucket}/inbox/${id}/`;
  if (names.includes('manifest.json')) {
    return new RequestFailedError(
      `request ${id} is not claimed yet: ${where}manifest.json is there`,
      undefined,
      {
        hint: `dispatch takes a manifest within seconds; if it stays so, the stack is not receiving S3 notifications. heritage wait ${id} waits for it.`,
      },
    );
  }
  if (names.length > 0) {
    return new RequestFailedError(`no manifest at ${where} (it holds ${names.join(', ')})`, undefined, {
      hint: 'the manifest starts a request: upload manifest.json there, after the images.',
    });
  }
  return new RequestFailedError(`no manifest at ${where}: nothing was submitted under this id`, undefined, {
    hint: 'check the id, and --bucket / --endpoint / --stack; heritage submit uploads a request.',
  });
}

/** A request that ended without outputs, or has not ended yet: nothing to download. */
export function explainNoResult(status: StatusDocument): RequestFailedError {
  const id = status.request_id;
  if (status.state === 'failed' || status.state === 'rejected') {
    return new RequestFailedError(`request ${id} was ${status.state}, so it has no outputs`, status.error, {
      result: status,
      hint: nextStep(status),
    });
  }
  if (!isTerminal(status.state)) {
    const progress =
      status.progress === undefined ? '' : `, ${status.progress.percent}% ${status.progress.phase}`;
    return new RequestFailedError(`request ${id} is ${status.state}${progress}: no outputs yet`, undefined, {
      result: status,
      hint: `heritage wait ${id} --out DIR waits for it and downloads it.`,
    });
  }
  return new RequestFailedError(
    `request ${id} succeeded but outputs/${id}/result.json is missing`,
    undefined,
    {
      result: status,
    },
  );
}

/** What to do after a request failed or was rejected. */
export function nextStep(status: StatusDocument): string {
  if (status.state === 'rejected') {
    return 'fix what the error names (heritage validate checks a manifest offline), then submit again under a new id: ids are single-use.';
  }
  return status.error?.retryable === false
    ? 'change what the error names, then submit again under a new id: ids are single-use.'
    : 'submit it again under a new id: ids are single-use.';
}

/**
 * Refuses an id that already has a request, or a manifest waiting for dispatch: a manifest uploaded
 * over it would not run (dispatch rejects it with REQUEST_ID_REUSED), so nothing is uploaded.
 */
export async function assertIdUnused(place: RequestPlace, id: string): Promise<void> {
  const record = await place.statuses.read(id);
  const manifest = record === undefined ? await place.objects.head(requestKeys(id).manifest) : undefined;
  if (record === undefined && manifest === undefined) return;
  const what =
    record === undefined
      ? `a manifest is already at s3://${place.bucket}/${requestKeys(id).manifest}`
      : `it belongs to a request that is ${record.status.state}`;
  throw new RequestIdReusedError(
    `request id ${id} is already used: ${what}. Ids are single-use: leave out --id for a fresh one, or choose another`,
    { details: { request_id: id, state: record?.status.state ?? null } },
  );
}
