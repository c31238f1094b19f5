/**
 * SQS's query protocol (form-encoded request, XML answer) on top of the emulator, which serves SQS only
 * in its JSON protocol. Older clients still speak query: AWS CLI 2.9 (Debian 12's package) and boto3
 * before 1.34. The conditional-write gateway hands such requests here: they go on as JSON requests, and
 * their answers come back as the XML those clients parse.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Query parameters whose JSON counterpart is a number. */
const NUMBERS = new Set(['MaxNumberOfMessages', 'WaitTimeSeconds', 'VisibilityTimeout', 'DelaySeconds']);

/** Flattened query lists and maps, and the JSON member each one becomes. */
const LISTS: Record<string, string> = {
  AttributeName: 'AttributeNames',
  MessageAttributeName: 'MessageAttributeNames',
  MessageSystemAttributeName: 'MessageSystemAttributeNames',
};
const MAPS: Record<string, string> = {
  Attribute: 'Attributes',
  Tag: 'tags',
  MessageAttribute: 'MessageAttributes',
};

/** `Attribute.1.Name=X&Attribute.1.Value=Y`, `AttributeName.1=All`, ... as the JSON protocol's members. */
export function queryToJson(params: URLSearchParams): { action: string; body: Record<string, Json> } {
  const body: Record<string, Json> = {};
  const entries = new Map<string, Map<string, Record<string, string>>>();
  for (const [name, value] of params) {
    if (name === 'Action' || name === 'Version') continue;
    const [head = '', index, ...rest] = name.split('.');
    const list = LISTS[head];
    const map = MAPS[head];
    if (index !== undefined && rest.length === 0 && list !== undefined) {
      const values = (body[list] as string[] | undefined) ?? [];
      values[Number(index) - 1] = value;
      body[list] = values;
    } else if (index !== undefined && map !== undefined) {
      const byIndex = entries.get(map) ?? new Map<string, Record<string, string>>();
      const entry = byIndex.get(index) ?? {};
      entry[rest.join('.')] = value;
      byIndex.set(index, entry);
      entries.set(map, byIndex);
    } else {
      body[name] = NUMBERS.has(name) ? Number(value) : value;
    }
  }
  for (const [member, byIndex] of entries) {
    const map: Record<string, Json> = {};
    for (const entry of byIndex.values()) {
      const key = entry.Name ?? entry.Key ?? '';
      // A message attribute's value is a structure: Value.DataType, Value.StringValue, ...
      const nested = Object.entries(entry).filter(([part]) => part.startsWith('Value.'));
      map[key] =
        nested.length > 0
          ? Object.fromEntries(nested.map(([part, value]) => [part.slice('Value.'.length), value]))
          : (entry.Value ?? '');
    }
    body[member] = map;
  }
  return { action: params.get('Action') ?? '', body };
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"\r]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON members that the query protocol writes as repeated, singular elements. */
const REPEATED: Record<string, string> = { QueueUrls: 'QueueUrl', Messages: 'Message' };
/** JSON maps that the query protocol writes as repeated Name/Value elements. */
const NAMED: Record<string, string> = {
  Attributes: 'Attribute',
  MessageAttributes: 'MessageAttribute',
  Tags: 'Tag',
};

function toXml(name: string, value: Json): string {
  if (value === null) return '';
  if (Array.isArray(value)) return value.map((item) => toXml(REPEATED[name] ?? name, item)).join('');
  const named = NAMED[name];
  if (named !== undefined && typeof value === 'object') {
    return Object.entries(value)
      .map(([key, item]) => `<${named}><Name>${escapeXml(key)}</Name>${toXml('Value', item)}</${named}>`)
      .join('');
  }
  if (typeof value === 'object') {
    const inner = Object.entries(value)
      .map(([key, item]) => toXml(key, item))
      .join('');
    return `<${name}>${inner}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

const NAMESPACE = 'http://queue.amazonaws.com/doc/2012-11-05/';

/** The JSON protocol's answer to `action`, as the query protocol's XML document. */
export function jsonToQueryXml(action: string, answer: Record<string, Json>, requestId: string): string {
  const result = Object.entries(answer)
    .map(([key, value]) => toXml(key, value))
    .join('');
  return (
    `<?xml version="1.0"?><${action}Response xmlns="${NAMESPACE}"><${action}Result>${result}</${action}Result>` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
  );
}

/**
 * A JSON protocol error as the query protocol's. The emulator sends the query protocol's own code in
 * `x-amzn-query-error` ("AWS.SimpleQueueService.NonExistentQueue;Sender"), as SQS does.
 */
export function queryErrorXml(
  answer: Record<string, Json>,
  queryError: string | undefined,
  requestId: string,
): string {
  const [code, type] = (queryError ?? '').split(';');
  const fallback = String(answer.__type ?? 'InternalError').replace(/^.*#/, '');
  return (
    `<?xml version="1.0"?><ErrorResponse xmlns="${NAMESPACE}"><Error><Type>${escapeXml(type || 'Sender')}</Type>` +
    `<Code>${escapeXml(code || fallback)}</Code><Message>${escapeXml(String(answer.message ?? answer.Message ?? ''))}</Message>` +
    `<Detail/></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}

/** A request in SQS's query protocol: form-encoded, and signed for the sqs service. */
export function isSqsQueryRequest(headers: Record<string, string | string[] | undefined>): boolean {
  const type = String(headers['content-type'] ?? '');
  const authorization = String(headers.authorization ?? '');
  return type.startsWith('application/x-www-form-urlencoded') && authorization.includes('/sqs/aws4_request');
}
