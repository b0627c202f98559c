// lightstep_thrift.thrift: LightStep's legacy "crouton" report, as the
// thrift transport of its tracers sends it (the Python tracer before 4.0,
// and with use_thrift=True; the C++ tracer) to /_rpc/v1/reports/binary,
// in the Thrift binary protocol.
//
// Written for ltb from the field ids of the generated code the npm
// lightstep-tracer ships (thrift_api/crouton_types.js); it is the schema
// ltb_lsthrift_walk.c reads and tests/tools/lsthrift.py writes. Only what a
// mock collector needs to count spans is described in comments; every
// field is optional, as the tracers treat them.

namespace py crouton
namespace cpp lightstep.crouton

// A tag, or a log's field: both halves are strings.
struct KeyValue {
  1: string Key,
  2: string Value
}

// A named counter of the tracer's own (dropped spans...).
struct NamedCounter {
  1: string Name,
  2: i64 Value
}

// The process reporting: its guid, when it started, its attributes.
struct Runtime {
  1: string guid,
  2: i64 start_micros,
  3: string group_name,
  4: list<KeyValue> attrs
}

// Ties a span to a trace: the tracers put the trace's guid here with the
// key "trace_guid" (older ones), or in SpanRecord.trace_guid (newer ones).
struct TraceJoinId {
  1: string TraceKey,
  2: string Value
}

// A log line, of a span (span_guid) or of the tracer itself.
struct LogRecord {
  1: i64 timestamp_micros,
  13: list<KeyValue> fields,
  2: string runtime_guid,
  3: string span_guid,
  4: string stable_name,
  5: string message,
  6: string level,
  7: i64 thread_id,
  8: string filename,
  9: i64 line_number,
  10: list<string> stack_frames,
  11: string payload_json,
  12: bool error_flag
}

// One span: what ltb counts. Times are micros since the epoch.
struct SpanRecord {
  1: string span_guid,
  11: string trace_guid,
  2: string runtime_guid,
  3: string span_name,
  4: list<TraceJoinId> join_ids,
  5: i64 oldest_micros,       // the start
  6: i64 youngest_micros,     // the end
  8: list<KeyValue> attributes,
  9: bool error_flag,
  10: list<LogRecord> log_records
}

// Auth travels as the call's first argument.
struct Auth {
  1: string access_token
}

struct SampleCount {
  1: i64 oldest_micros,
  2: i64 youngest_micros,
  3: i64 count
}

struct MetricsSample {
  1: string name,
  2: i64 int64_value,
  3: double double_value
}

struct Metrics {
  1: list<MetricsSample> counts,
  2: list<MetricsSample> gauges
}

// One report: the spans of a flush, with the reporter's runtime.
struct ReportRequest {
  1: Runtime runtime,
  3: list<SpanRecord> span_records,
  4: list<LogRecord> log_records,
  5: i64 timestamp_offset_micros,
  7: i64 oldest_micros,
  8: i64 youngest_micros,
  9: list<NamedCounter> counters,
  10: list<LogRecord> internal_logs,
  11: Metrics internal_metrics
}

// What the collector may ask of the tracer.
struct Command {
  1: bool disable
}

// When the collector received the report and answered, for the tracer's
// clock correction.
struct Timing {
  1: i64 receive_micros,
  2: i64 transmit_micros
}

struct ReportResponse {
  1: list<Command> commands,
  2: Timing timing
}

// Thrift RPC over HTTP: the body is one CALL message "Report" holding the
// arguments {1: auth, 2: request}; the answer a REPLY with the same name
// and seqid whose result's field 0 (success) is the ReportResponse.
service ReportingService {
  ReportResponse Report(1: Auth auth, 2: ReportRequest request)
}
