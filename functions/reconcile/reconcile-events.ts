/** The EventBridge events reconcile receives: its one-minute schedule and Batch job state changes. */
import { z } from 'zod';

export const ScheduledEventSchema = z.object({
  'detail-type': z.literal('Scheduled Event'),
  time: z.string().optional(),
});

export const BatchJobStateChangeSchema = z.object({
  'detail-type': z.literal('Batch Job State Change'),
  detail: z.object({
    jobId: z.string(),
    jobName: z.string(),
    status: z.string(),
    statusReason: z.string().optional(),
    attempts: z
      .array(
        z.object({
          container: z.object({ exitCode: z.number().optional(), reason: z.string().optional() }).optional(),
          statusReason: z.string().optional(),
        }),
      )
      .optional(),
  }),
});

export const ReconcileEventSchema = z.discriminatedUnion('detail-type', [
  ScheduledEventSchema,
  BatchJobStateChangeSchema,
]);

export type ReconcileEvent = z.infer<typeof ReconcileEventSchema>;
export type BatchJobStateChange = z.infer<typeof BatchJobStateChangeSchema>;
