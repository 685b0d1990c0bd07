//! Wire and stored data types: operation records, updates, error objects, statuses.
//!
//! Internally every timestamp is epoch **milliseconds** (`i64`). The HTTP API renders them as
//! epoch-second JSON numbers, the invocation envelope as epoch-millisecond integers
//! (see [`TimeFormat`]).

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// The error object of the Lambda API (`ErrorType`, `ErrorMessage`, `ErrorData`, `StackTrace`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ErrorObject {
    /// Error type, e.g. `Callback.Timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// Human-readable message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Machine-readable extra data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_data: Option<String>,
    /// Stack frames.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_trace: Option<Vec<String>>,
}

impl ErrorObject {
    /// An error with a type and a message.
    pub fn new(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error_type: Some(error_type.into()),
            error_message: Some(message.into()),
            ..Self::default()
        }
    }

    /// An error with only a message.
    pub fn message(message: impl Into<String>) -> Self {
        Self {
            error_message: Some(message.into()),
            ..Self::default()
        }
    }

    /// Approximate stored size in bytes.
    pub fn size(&self) -> usize {
        self.error_type.as_ref().map_or(0, String::len)
            + self.error_message.as_ref().map_or(0, String::len)
            + self.error_data.as_ref().map_or(0, String::len)
            + self
                .stack_trace
                .as_ref()
                .map_or(0, |s| s.iter().map(String::len).sum())
    }

    /// As a JSON value (PascalCase keys, absent fields omitted).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $s)] $var),+
        }
        impl $name {
            /// The wire spelling.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$var => $s),+ }
            }
            /// Parses the wire spelling (exact, upper case).
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some(Self::$var),)+ _ => None }
            }
        }
    };
}

wire_enum!(
    /// `OperationType`.
    OpType {
        /// The execution itself.
        Execution => "EXECUTION",
        /// `ctx.step`, `wait_for_condition`.
        Step => "STEP",
        /// `ctx.wait`.
        Wait => "WAIT",
        /// `ctx.create_callback`.
        Callback => "CALLBACK",
        /// `ctx.invoke`.
        ChainedInvoke => "CHAINED_INVOKE",
        /// Child contexts, map, parallel, combinators.
        Context => "CONTEXT",
    }
);

wire_enum!(
    /// `OperationAction`.
    OpAction {
        Start => "START",
        Succeed => "SUCCEED",
        Fail => "FAIL",
        /// Retry (steps).
        Retry => "RETRY",
        /// Cancel (waits).
        Cancel => "CANCEL",
    }
);

wire_enum!(
    /// `OperationStatus`.
    OpStatus {
        Started => "STARTED",
        /// Waiting for a retry delay.
        Pending => "PENDING",
        /// Retry delay elapsed.
        Ready => "READY",
        Succeeded => "SUCCEEDED",
        Failed => "FAILED",
        Cancelled => "CANCELLED",
        TimedOut => "TIMED_OUT",
        Stopped => "STOPPED",
    }
);

wire_enum!(
    /// `ExecutionStatus`.
    ExecStatus {
        /// Running.
        Running => "RUNNING",
        /// Succeeded.
        Succeeded => "SUCCEEDED",
        /// Failed.
        Failed => "FAILED",
        /// Ran past its execution timeout.
        TimedOut => "TIMED_OUT",
        /// Stopped by `StopDurableExecution`.
        Stopped => "STOPPED",
    }
);

impl ExecStatus {
    /// Whether the execution has finished.
    pub fn is_terminal(self) -> bool {
        self != Self::Running
    }
}

impl OpStatus {
    /// Whether the operation has finished.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::Failed | Self::Cancelled | Self::TimedOut | Self::Stopped
        )
    }
}

/// One stored operation record (the service's view; rendered to the wire by [`Op::to_wire`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Op {
    /// Operation id (opaque, from the SDK).
    pub id: String,
    /// Creation order within the execution.
    pub ord: u64,
    /// Parent operation id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Type.
    pub op_type: OpType,
    /// Sub-type (verbatim).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_type: Option<String>,
    pub status: OpStatus,
    /// Start time (ms).
    pub start_ms: i64,
    /// End time (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_ms: Option<i64>,
    /// EXECUTION: the input payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_payload: Option<String>,
    /// Result (in the details bucket of the op's type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Error (in the details bucket of the op's type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
    /// STEP: attempt counter (+1 on RETRY/SUCCEED/FAIL).
    #[serde(default)]
    pub attempt: u32,
    /// STEP: when a PENDING retry becomes READY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_ms: Option<i64>,
    /// WAIT: requested duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_seconds: Option<i64>,
    /// WAIT: scheduled end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_end_ms: Option<i64>,
    /// CONTEXT: `ReplayChildren`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_children: Option<bool>,
    /// CALLBACK: minted id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_id: Option<String>,
    /// CALLBACK: timeout seconds (0 = none).
    #[serde(default)]
    pub cb_timeout_s: i64,
    /// CALLBACK: heartbeat timeout seconds (0 = none).
    #[serde(default)]
    pub cb_heartbeat_s: i64,
    /// CALLBACK: absolute timeout deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cb_deadline_ms: Option<i64>,
    /// CALLBACK: heartbeat deadline (moved on every heartbeat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cb_heartbeat_deadline_ms: Option<i64>,
    /// CHAINED_INVOKE: resolved target function name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoke_function: Option<String>,
    /// CHAINED_INVOKE: input payload for the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoke_input: Option<String>,
    /// CHAINED_INVOKE: tenant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoke_tenant: Option<String>,
}

/// How timestamps are rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFormat {
    /// HTTP API: epoch seconds as JSON numbers (fractional).
    EpochSeconds,
    /// Invocation envelope: epoch milliseconds as integers.
    EpochMillis,
}

/// Renders a millisecond timestamp.
pub fn ts(ms: i64, format: TimeFormat) -> Value {
    match format {
        TimeFormat::EpochMillis => json!(ms),
        TimeFormat::EpochSeconds => json!(ms as f64 / 1000.0),
    }
}

impl Op {
    /// A fresh record.
    pub fn new(id: String, ord: u64, op_type: OpType, status: OpStatus, start_ms: i64) -> Self {
        Self {
            id,
            ord,
            parent_id: None,
            name: None,
            op_type,
            sub_type: None,
            status,
            start_ms,
            end_ms: None,
            input_payload: None,
            result: None,
            error: None,
            attempt: 0,
            next_attempt_ms: None,
            wait_seconds: None,
            scheduled_end_ms: None,
            replay_children: None,
            callback_id: None,
            cb_timeout_s: 0,
            cb_heartbeat_s: 0,
            cb_deadline_ms: None,
            cb_heartbeat_deadline_ms: None,
            invoke_function: None,
            invoke_input: None,
            invoke_tenant: None,
        }
    }

    /// Approximate stored payload size in bytes.
    pub fn payload_size(&self) -> usize {
        self.result.as_ref().map_or(0, String::len)
            + self.input_payload.as_ref().map_or(0, String::len)
            + self.invoke_input.as_ref().map_or(0, String::len)
            + self.error.as_ref().map_or(0, ErrorObject::size)
    }

    /// The full `Operation` shape of the API.
    pub fn to_wire(&self, format: TimeFormat) -> Value {
        let mut m = Map::new();
        m.insert("Id".into(), json!(self.id));
        if let Some(p) = &self.parent_id {
            m.insert("ParentId".into(), json!(p));
        }
        if let Some(n) = &self.name {
            m.insert("Name".into(), json!(n));
        }
        m.insert("Type".into(), json!(self.op_type.as_str()));
        if let Some(s) = &self.sub_type {
            m.insert("SubType".into(), json!(s));
        }
        m.insert("Status".into(), json!(self.status.as_str()));
        m.insert("StartTimestamp".into(), ts(self.start_ms, format));
        if let Some(e) = self.end_ms {
            m.insert("EndTimestamp".into(), ts(e, format));
        }
        let mut d = Map::new();
        if let Some(r) = &self.result {
            d.insert("Result".into(), json!(r));
        }
        if let Some(e) = &self.error {
            d.insert("Error".into(), e.to_value());
        }
        let (key, details) = match self.op_type {
            OpType::Execution => {
                let mut x = Map::new();
                if let Some(i) = &self.input_payload {
                    x.insert("InputPayload".into(), json!(i));
                }
                ("ExecutionDetails", x)
            }
            OpType::Step => {
                d.insert("Attempt".into(), json!(self.attempt));
                if let Some(n) = self.next_attempt_ms {
                    d.insert("NextAttemptTimestamp".into(), ts(n, format));
                }
                ("StepDetails", d)
            }
            OpType::Wait => {
                let mut x = Map::new();
                if let Some(s) = self.scheduled_end_ms {
                    x.insert("ScheduledEndTimestamp".into(), ts(s, format));
                }
                ("WaitDetails", x)
            }
            OpType::Callback => {
                if let Some(c) = &self.callback_id {
                    d.insert("CallbackId".into(), json!(c));
                }
                ("CallbackDetails", d)
            }
            OpType::ChainedInvoke => ("ChainedInvokeDetails", d),
            OpType::Context => {
                if let Some(r) = self.replay_children {
                    d.insert("ReplayChildren".into(), json!(r));
                }
                ("ContextDetails", d)
            }
        };
        m.insert(key.into(), Value::Object(details));
        Value::Object(m)
    }
}

/// `OperationUpdate` as sent by the SDK in a checkpoint request.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OperationUpdate {
    /// Operation id.
    pub id: String,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// Type (wire string).
    #[serde(rename = "Type")]
    pub op_type: String,
    #[serde(default)]
    pub sub_type: Option<String>,
    /// Action (wire string).
    pub action: String,
    /// Payload (result / state / chained-invoke input).
    #[serde(default)]
    pub payload: Option<String>,
    #[serde(default)]
    pub error: Option<ErrorObject>,
    #[serde(default)]
    pub context_options: Option<ContextOptions>,
    #[serde(default)]
    pub step_options: Option<StepOptions>,
    #[serde(default)]
    pub wait_options: Option<WaitOptions>,
    #[serde(default)]
    pub callback_options: Option<CallbackOptions>,
    #[serde(default)]
    pub chained_invoke_options: Option<ChainedInvokeOptions>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContextOptions {
    #[serde(default)]
    pub replay_children: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StepOptions {
    #[serde(default)]
    pub next_attempt_delay_seconds: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WaitOptions {
    #[serde(default)]
    pub wait_seconds: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CallbackOptions {
    /// `TimeoutSeconds` (0 = none).
    #[serde(default)]
    pub timeout_seconds: Option<i64>,
    /// `HeartbeatTimeoutSeconds` (0 = none).
    #[serde(default)]
    pub heartbeat_timeout_seconds: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChainedInvokeOptions {
    /// Target function (name, name:qualifier, or ARN).
    #[serde(default)]
    pub function_name: Option<String>,
    #[serde(default)]
    pub tenant_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_renders_attempt_and_seconds() {
        let mut op = Op::new("a".into(), 1, OpType::Step, OpStatus::Succeeded, 1_500);
        op.result = Some("10".into());
        op.attempt = 1;
        let w = op.to_wire(TimeFormat::EpochSeconds);
        assert_eq!(w["StartTimestamp"], json!(1.5));
        assert_eq!(w["StepDetails"], json!({"Attempt": 1, "Result": "10"}));
        let e = op.to_wire(TimeFormat::EpochMillis);
        assert_eq!(e["StartTimestamp"], json!(1500));
    }

    #[test]
    fn update_parses_captured_sample() {
        let u: OperationUpdate = serde_json::from_str(
            r#"{"Action":"RETRY","Error":{"ErrorMessage":"t","ErrorType":"Error"},"Id":"d4","Name":"flaky","StepOptions":{"NextAttemptDelaySeconds":1},"SubType":"Step","Type":"STEP"}"#,
        )
        .unwrap();
        assert_eq!(u.action, "RETRY");
        assert_eq!(u.step_options.unwrap().next_attempt_delay_seconds, Some(1));
        assert_eq!(u.error.unwrap().error_type.as_deref(), Some("Error"));
    }
}
