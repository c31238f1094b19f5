/**
 * One request's whole story, in order, from every log group on its path: dispatch, the worker (its own
 * lines, ComfyUI's output and its EMF records), dead-letter and reconcile. Every line they write about a
 * request carries `request_id`. Saved in the account as a Logs Insights query (docs/observability.md).
 */
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** What the operator replaces with the request id before running the query. */
export const REQUEST_ID_PLACEHOLDER = 'REPLACE-WITH-REQUEST-ID';

export const REQUEST_STORY_QUERY = new logs.QueryString({
  fields: ['@timestamp', '@log', 'level', 'message', 'state', 'error_code', 'error.code', 'outcome', 'text'],
  filterStatements: [`request_id = '${REQUEST_ID_PLACEHOLDER}'`],
  sort: '@timestamp asc',
  limit: 10000,
});

export interface RequestStoryProps {
  readonly queryName: string;
  readonly logGroups: logs.ILogGroup[];
}

export class RequestStory extends Construct {
  readonly definition: logs.QueryDefinition;

  constructor(scope: Construct, id: string, props: RequestStoryProps) {
    super(scope, id);
    this.definition = new logs.QueryDefinition(this, 'Query', {
      queryDefinitionName: props.queryName,
      queryString: REQUEST_STORY_QUERY,
      logGroups: props.logGroups,
    });
  }
}
