/**
 * Workflow history <-> ProtoJSON (the format of `temporal workflow show --output json`)
 * for the replay fixtures (not a test file).
 *
 * Why not the SDK's historyFromJSON/historyToJSON (@temporalio/common/lib/proto-utils):
 * with this project's install, @temporalio/common, /proto and /worker each get their own
 * nested copy of protobufjs 8 (the top-level slot holds the protobufjs 7 that
 * @grpc/proto-loader needs), and protobufjs's ProtoJSON code rejects a type made by another
 * copy ("type must be a Type"). So this converts with the protobufjs that @temporalio/proto
 * itself resolves, which works whatever the layout.
 */
import { createRequire } from 'node:module';
import proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root.js';

type History = proto.temporal.api.history.v1.IHistory;

interface ProtoJson {
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
  toJson(type: unknown, message: unknown): unknown;
}

const fromProto = createRequire(createRequire(import.meta.url).resolve('@temporalio/proto'));
const protojson = fromProto('protobufjs/ext/protojson') as ProtoJson;
const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');

/** Parses a ProtoJSON history (fields a newer server adds are ignored, as the SDK does). */
export function historyFromJson(text: string): History {
  return protojson.fromJson(historyType, JSON.parse(text), { ignoreUnknownFields: true }) as History;
}

/** Formats a history (e.g. from `handle.fetchHistory()`) as ProtoJSON text, one field a line. */
export function historyToJson(history: History): string {
  const message = proto.temporal.api.history.v1.History.fromObject(history);
  return JSON.stringify(protojson.toJson(historyType, message), null, 1) + '\n';
}
