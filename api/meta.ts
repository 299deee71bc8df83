/**
 * Schema pieces shared by every kind: object metadata, conditions, references.
 * @module
 */
import { z } from "zod";

/** Metadata is Kubernetes' own; our schemas only name the fields we read. */
export const ObjectMeta = z
  .looseObject({
    name: z.string().optional(),
    generateName: z.string().optional(),
    namespace: z.string().optional(),
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
    generation: z.number().optional(),
    creationTimestamp: z.string().optional(),
    deletionTimestamp: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .describe("Standard object metadata.");
export type ObjectMeta = z.infer<typeof ObjectMeta>;

export const Timestamp = z.string().meta({ format: "date-time" });

export const Condition = z
  .object({
    type: z.string().describe("Type of condition, e.g. Ready."),
    status: z.enum(["True", "False", "Unknown"]).describe("Status of the condition: True, False or Unknown."),
    reason: z.string().describe("Machine-readable CamelCase reason for the last transition."),
    message: z.string().optional().describe("Human-readable details about the last transition."),
    lastTransitionTime: Timestamp.describe("When the condition last changed status."),
    observedGeneration: z.number().int().optional().describe("The .metadata.generation the condition was set for."),
  })
  .describe("A standard Kubernetes condition.");
export type Condition = z.infer<typeof Condition>;

export const Conditions = z
  .array(Condition)
  .describe("Current state of the object as standard conditions, one per type.")
  .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] });

export const LocalObjectReference = z.object({
  name: z.string().min(1).describe("Name of the referenced object."),
});

export const Phase = z.enum(["Pending", "Running", "Succeeded", "Failed"]);
export type Phase = z.infer<typeof Phase>;

/** Kubernetes' own descriptions of the type fields every object carries. */
export const API_VERSION_DOC = "APIVersion defines the versioned schema of this representation of an object.";
export const KIND_DOC = "Kind is a string value representing the REST resource this object represents.";

/** Wraps a spec and status schema into a whole object schema. */
export function objectSchema<S extends z.ZodType, T extends z.ZodType>(
  description: string,
  spec: S,
  status: T,
): z.ZodObject<{
  apiVersion: z.ZodOptional<z.ZodString>;
  kind: z.ZodOptional<z.ZodString>;
  metadata: z.ZodOptional<typeof ObjectMeta>;
  spec: S;
  status: z.ZodOptional<T>;
}> {
  return z
    .object({
      apiVersion: z.string().optional().describe(API_VERSION_DOC),
      kind: z.string().optional().describe(KIND_DOC),
      metadata: ObjectMeta.optional(),
      spec,
      status: status.optional(),
    })
    .describe(description);
}
